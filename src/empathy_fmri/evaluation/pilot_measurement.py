"""Reliability of a pilot's measures without a truth: observed minus error variance.

On a real dataset nobody knows each subject's true ROI amplitude, but the
first level says how noisy each subject's estimate is. A subject's ROI
amplitude is ``y_s = t_s + e_s``, the true amplitude plus a measurement error
of variance ``sigma_s^2`` independent of it, so across subjects
``E[var(y)] = tau^2 + mean(sigma_s^2)``: the method-of-moments estimate of the
between-subject variance of the true amplitude is

    tau^2 = max(0, var(y) - mean(sigma_s^2))     (var with ddof = 1)

and the reliability is ``tau^2 / (tau^2 + mean(sigma_s^2))`` (classical test
theory; ``1 - mean(sigma_s^2) / var(y)`` unless floored). The error variances
of the ROI amplitudes come from the first-level variances, calibrated at null
positions (:func:`~empathy_fmri.evaluation.measurement.calibrate_roi_glm`,
:func:`~empathy_fmri.evaluation.measurement.calibrate_measurement`); those of
the moral-dilemma scores from the binomial sampling of each participant's
dilemmas (:func:`score_error_variance`). The same split with the truth known is
:meth:`~empathy_fmri.evaluation.measurement.MeasurementModel.reliability`.

What the null positions cannot see counts as true variance here: run-to-run
variation of a subject's amplitude and stable but unwanted signal (leakage
from neighbouring regions, a subject's HRF shape) are part of ``t_s``. So the
reliability is that of the subject's amplitude as this design measures it,
with this many runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from empathy_fmri.task.process_dissociation import estimate_process_dissociation

__all__ = [
    "COUNT_COLUMNS",
    "VarianceSplit",
    "brain_measurement",
    "score_error_variance",
    "score_measurement",
    "split_variance",
]

logger = logging.getLogger(__name__)

#: Phenotype columns with each participant's dilemma counts, per kind of dilemma.
COUNT_COLUMNS = {
    "congruent": ("congruent_harm_rejected", "congruent_harm_accepted"),
    "incongruent": ("incongruent_harm_rejected", "incongruent_harm_accepted"),
}


@dataclass(frozen=True)
class VarianceSplit:
    """Observed variance of a measure split into true and error variance.

    Attributes
    ----------
    n_subjects : int
        Subjects with a finite value.
    observed_variance : float
        Sample variance of the values (ddof 1).
    error_variance : float
        Mean measurement-error variance of one subject's value.
    true_variance : float
        ``max(0, observed_variance - error_variance)``.
    reliability : float
        ``true_variance / (true_variance + error_variance)``; NaN if both are 0.
    reliability_ci_low, reliability_ci_high : float
        Interval of the reliability from the chi-square interval of the
        observed variance (``n - 1`` df, normal values), the error variance
        taken as known; it shows how little a pilot of ``n`` pins it down.
    floored : bool
        Whether the observed variance was below the error variance, so that
        the true variance was set to 0.
    """

    n_subjects: int
    observed_variance: float
    error_variance: float
    true_variance: float
    reliability: float
    reliability_ci_low: float
    reliability_ci_high: float
    floored: bool


def _reliability(total: float | np.ndarray, error: float) -> np.ndarray:
    """``max(0, 1 - error / total)``; NaN where total is 0."""
    total = np.asarray(total, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip(1.0 - error / total, 0.0, 1.0)
    return np.where(total > 0, out, np.nan)


def split_variance(
    values: Sequence[float] | np.ndarray,
    error_variance: float,
    *,
    name: str = "measure",
    confidence_level: float = 0.95,
) -> VarianceSplit:
    """Split the observed between-subject variance into true and error variance.

    Parameters
    ----------
    values : array-like
        One value per subject (NaN dropped).
    error_variance : float
        Mean measurement-error variance of one subject's value.
    name : str
        What the values are (for the message when the true variance is floored).
    confidence_level : float
        Level of the reliability interval.

    Returns
    -------
    VarianceSplit
        The estimator is in the module docstring. When the observed variance
        is below the error variance the true variance is 0 and a warning says
        so: the pilot then cannot tell the measure from noise.
    """
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if values.size < 3:
        raise ValueError(f"{name}: need at least 3 subjects with a value, got {values.size}")
    if not np.isfinite(error_variance) or error_variance < 0:
        raise ValueError(f"{name}: error variance must be finite and >= 0, got {error_variance}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level}")
    n = int(values.size)
    observed = float(np.var(values, ddof=1))
    true = observed - error_variance
    floored = true < 0
    if floored:
        logger.warning(
            "%s: observed variance %.4g is below the mean error variance %.4g; the true "
            "between-subject variance is set to 0 (reliability 0): in this pilot the measure "
            "cannot be told from its noise",
            name,
            observed,
            error_variance,
        )
        true = 0.0
    total = true + error_variance
    reliability = float(true / total) if total > 0 else float("nan")
    # (n - 1) s^2 / sigma_total^2 ~ chi2(n - 1): the interval of sigma_total^2
    tail = (1.0 - confidence_level) / 2.0
    totals = (n - 1) * observed / stats.chi2.ppf([1.0 - tail, tail], n - 1)
    low, high = _reliability(totals, error_variance)
    return VarianceSplit(
        n_subjects=n,
        observed_variance=observed,
        error_variance=float(error_variance),
        true_variance=float(true),
        reliability=reliability,
        reliability_ci_low=float(low),
        reliability_ci_high=float(high),
        floored=bool(floored),
    )


def brain_measurement(
    roi_table: pd.DataFrame,
    calibration: pd.DataFrame,
    selection: str = "independent",
) -> pd.DataFrame:
    """True and error variance of each ROI amplitude, from the pilot alone.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv``: ``participant_id``, ``roi``, ``selection`` and
        ``needle_minus_swab`` (the amplitude the statistics use).
    calibration : pandas.DataFrame
        One row per ROI with ``roi`` and ``error_sd_psc`` (the root mean
        error variance of one subject's amplitude), from
        :func:`~empathy_fmri.evaluation.measurement.calibrate_roi_glm` or
        :func:`~empathy_fmri.evaluation.measurement.calibrate_measurement`;
        its other columns are kept.
    selection : str
        Which ROIs (``independent``: the a-priori spheres, whose amplitudes
        are not selected on the data).

    Returns
    -------
    pandas.DataFrame
        One row per ROI of ``calibration``: ``measure`` (the ROI), ``kind``
        ``roi``, the fields of :class:`VarianceSplit` (psc^2), ``true_sd`` and
        ``error_sd`` (psc), ``error_source``, then the calibration's columns.
    """
    missing = {"roi", "error_sd_psc"} - set(calibration.columns)
    if missing:
        raise ValueError(f"calibration lacks the column(s) {sorted(missing)}")
    chosen = roi_table[roi_table["selection"] == selection]
    rows = []
    for row in calibration.to_dict("records"):
        roi = row["roi"]
        values = chosen.loc[chosen["roi"] == roi, "needle_minus_swab"].to_numpy(float)
        split = split_variance(values, float(row["error_sd_psc"]) ** 2, name=f"ROI {roi}")
        out = {"measure": roi, "kind": "roi", **asdict(split)}
        out["true_sd"] = float(np.sqrt(split.true_variance))
        out["error_sd"] = float(np.sqrt(split.error_variance))
        out["error_source"] = "first-level variance, calibrated at null positions"
        out.update({k: v for k, v in row.items() if k != "roi"})
        rows.append(out)
    return pd.DataFrame(rows)


def score_error_variance(
    phenotype: pd.DataFrame,
    score: str,
    rng: np.random.Generator,
    n_draws: int = 2000,
    counts: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Each participant's sampling variance of a dilemma score: parametric bootstrap.

    A participant's score is computed from binomial counts: harm rejected in
    ``x_c`` of ``n_c`` congruent and ``x_i`` of ``n_i`` incongruent dilemmas.
    Each participant's counts are redrawn ``n_draws`` times from
    ``Binomial(n - 1, x / n)`` per kind and rescored exactly as the analysis
    scores them
    (:func:`~empathy_fmri.task.process_dissociation.estimate_process_dissociation`);
    the variance of the rescored values is the participant's error variance.
    Drawing ``n - 1`` rather than ``n`` dilemmas removes the plug-in bias: the
    proportion of ``Binomial(n - 1, p_hat)`` has variance ``p_hat (1 - p_hat) /
    (n - 1)``, whose expectation is exactly ``p (1 - p) / n``, the sampling
    variance of ``p_hat``. So the estimate is unbiased (up to Monte Carlo
    error) for willingness to harm and U, which are linear in the two
    proportions, and first-order for D, a ratio (on 20,000 people drawn from
    the default behaviour model: reliability 0.49 against 0.50 measured from
    repeated responses; a jackknife over dilemmas, which overstates the
    variance of a ratio, gave 0.38).

    Parameters
    ----------
    phenotype : pandas.DataFrame
        One row per participant; with the columns of :data:`COUNT_COLUMNS`
        unless ``counts`` is given.
    score : str
        ``willingness_to_harm``, ``D`` or ``U``.
    rng : numpy.random.Generator
        Random source.
    n_draws : int
        Bootstrap draws per participant (the relative Monte Carlo error of a
        variance is about ``sqrt(2 / n_draws)`` per participant, less for the
        mean over participants).
    counts : mapping, optional
        ``{"congruent": (rejected, n), "incongruent": (rejected, n)}``, one
        value per row of ``phenotype`` (the raw counts that
        ``analysis.dilemmas`` names, from
        :func:`empathy_fmri.io.phenotype.dilemma_counts`); None: from the
        columns of :data:`COUNT_COLUMNS`.

    Returns
    -------
    numpy.ndarray
        One variance per row of ``phenotype``; NaN where a count is missing.

    Raises
    ------
    ValueError
        If a count column is missing, or a participant answered fewer than 2
        dilemmas of a kind.
    """
    if n_draws < 2:
        raise ValueError(f"n_draws must be at least 2, got {n_draws}")
    rejected, totals = {}, {}
    if counts is not None:
        for kind in COUNT_COLUMNS:
            rejected[kind] = np.asarray(counts[kind][0], float)
            totals[kind] = np.asarray(counts[kind][1], float)
    else:
        columns = [c for pair in COUNT_COLUMNS.values() for c in pair]
        missing = [c for c in columns if c not in phenotype.columns]
        if missing:
            raise ValueError(
                f"the phenotype table lacks the dilemma count column(s) {missing}, needed to "
                "estimate the scores' reliability ('power.pilot.score_reliability' null); "
                "give the reliability as a number instead, or name the raw counts in "
                "'analysis.dilemmas'"
            )
        for kind, (rejected_column, accepted_column) in COUNT_COLUMNS.items():
            rejected[kind] = pd.to_numeric(phenotype[rejected_column], errors="coerce").to_numpy(
                float
            )
            totals[kind] = rejected[kind] + pd.to_numeric(
                phenotype[accepted_column], errors="coerce"
            ).to_numpy(float)
    valid = np.isfinite(totals["congruent"]) & np.isfinite(totals["incongruent"])
    for kind, total in totals.items():
        if np.any(total[valid] < 2):
            raise ValueError(
                f"a participant answered fewer than 2 {kind} dilemmas; the bootstrap "
                "draws n - 1 of them"
            )
    n_people = int(valid.sum())
    drawn = {}
    for kind in COUNT_COLUMNS:
        n = totals[kind][valid].astype(int) - 1
        share = rejected[kind][valid] / totals[kind][valid]
        drawn[kind] = (
            rng.binomial(n, share, size=(n_draws, n_people)).ravel(),
            np.tile(n, n_draws),
        )
    values = (
        estimate_process_dissociation(
            drawn["congruent"][0],
            drawn["incongruent"][0],
            drawn["congruent"][1],
            drawn["incongruent"][1],
        )[score]
        .to_numpy(float)
        .reshape(n_draws, n_people)
    )
    out = np.full(len(phenotype), np.nan)
    out[valid] = values.var(axis=0, ddof=1)
    return out


def score_measurement(
    phenotype: pd.DataFrame,
    scores: Sequence[str],
    reliability: float | None,
    rng: np.random.Generator | None = None,
    n_draws: int = 2000,
    counts: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """True and error variance of each behavioural score, given or from the counts.

    Parameters
    ----------
    phenotype : pandas.DataFrame
        The pilot's participants (those analysed), with the score columns
        and, if ``reliability`` is None, the dilemma counts.
    scores : sequence of str
        Scores of the analysis.
    reliability : float or None
        ``power.pilot.score_reliability``: the reliability of every score, or
        None to estimate it per score with :func:`score_error_variance` and
        :func:`split_variance`.
    rng : numpy.random.Generator, optional
        Random source of the bootstrap (needed when ``reliability`` is None).
    n_draws : int
        Bootstrap draws per participant (:func:`score_error_variance`).
    counts : mapping, optional
        The raw counts, as :func:`score_error_variance` takes them.

    Returns
    -------
    pandas.DataFrame
        One row per score, the columns of :func:`brain_measurement` up to
        ``error_source`` (variances in the score's units). With a given
        reliability ``rho`` the observed variance is split as ``rho`` and
        ``1 - rho`` and the interval is the value itself.
    """
    rows = []
    for score in scores:
        values = pd.to_numeric(phenotype[score], errors="coerce").to_numpy(float)
        if reliability is None:
            if rng is None:
                raise ValueError("estimating the score reliability needs an rng")
            errors = score_error_variance(phenotype, score, rng, n_draws, counts)
            keep = np.isfinite(values) & np.isfinite(errors)
            split = split_variance(
                values[keep], float(np.mean(errors[keep])), name=f"score {score}"
            )
            source = "dilemma counts, parametric bootstrap"
        else:
            observed = float(np.nanvar(values, ddof=1))
            split = VarianceSplit(
                n_subjects=int(np.isfinite(values).sum()),
                observed_variance=observed,
                error_variance=(1.0 - reliability) * observed,
                true_variance=reliability * observed,
                reliability=float(reliability),
                reliability_ci_low=float(reliability),
                reliability_ci_high=float(reliability),
                floored=False,
            )
            source = "config: power.pilot.score_reliability"
        out = {"measure": score, "kind": "score", **asdict(split)}
        out["true_sd"] = float(np.sqrt(split.true_variance))
        out["error_sd"] = float(np.sqrt(split.error_variance))
        out["error_source"] = source
        rows.append(out)
    return pd.DataFrame(rows)
