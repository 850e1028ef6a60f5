"""Power and inflation of brain-behaviour correlations: a fast summary-level Monte Carlo.

A study of ``n`` participants is simulated at the level of its summaries, not
its images: each participant's true ROI amplitudes and process-dissociation
parameters come from the population model of :mod:`empathy_fmri.population`;
the analysis measures each amplitude as ``gain * delta + error``
(:class:`MeasurementModel`, calibrated from a run's first-level maps by
:func:`calibrate_measurement` and :func:`signal_gain`); the dilemma scores are
estimated from binomial responses with :mod:`empathy_fmri.behaviour`. Every
study's ROI x score Pearson correlations are then tested with the analytic
t test of Pearson's r (exact under the null for a normal brain measure, and
thousands of times faster than the permutation p of the real analysis).

Summaries follow Gelman & Carlin (2014, Perspect Psychol Sci 9:641): power,
the exaggeration ratio (type M: mean ``|r|`` among significant studies over
``|r_population|``) and the type S error rate (share of significant studies
with the wrong sign). :func:`fisher_z_power` gives the analytic power of a
correlation test for comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from scipy import special, stats

from empathy_fmri.behaviour import (
    estimate_process_dissociation,
    latent_to_probability,
    simulate_responses,
)

__all__ = [
    "MeasurementModel",
    "calibrate_measurement",
    "expected_correlations",
    "fisher_z_power",
    "null_pairs",
    "pearson_p_value",
    "power_rng",
    "power_table",
    "run_measurement_model",
    "run_power",
    "signal_gain",
    "simulate_correlations",
    "summarise_correlations",
]

logger = logging.getLogger(__name__)

#: People simulated at once; bounds memory (about 100 bytes per person per ROI).
CHUNK_PEOPLE = 200_000


@dataclass(frozen=True)
class MeasurementModel:
    """How the analysis measures each ROI amplitude: ``gain * delta + error``.

    Attributes
    ----------
    gain : mapping of str to float
        Share of the planted ROI-average amplitude that the ROI-average
        estimate recovers (smoothing spreads part of it outside the ROI).
    error_sd_psc : mapping of str to float
        SD of the estimate's measurement error (psc), from the first-level
        variance maps.
    """

    gain: Mapping[str, float]
    error_sd_psc: Mapping[str, float]

    @classmethod
    def perfect(cls, rois: Sequence[str]) -> MeasurementModel:
        """Return the model of a perfect measurement: gain 1, no error."""
        return cls({name: 1.0 for name in rois}, {name: 0.0 for name in rois})

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> MeasurementModel:
        """Read the model from a table with ``roi``, ``gain`` and ``error_sd_psc`` columns.

        Parameters
        ----------
        table : pandas.DataFrame
            E.g. ``results/power/measurement_model.tsv``.

        Returns
        -------
        MeasurementModel
        """
        missing = {"roi", "gain", "error_sd_psc"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks the column(s) {sorted(missing)}")
        indexed = table.set_index("roi")
        return cls(indexed["gain"].astype(float).to_dict(),
                   indexed["error_sd_psc"].astype(float).to_dict())

    def reliability(self, sd_psc: Mapping[str, float]) -> dict[str, float]:
        """Reliability of each ROI estimate across people.

        Parameters
        ----------
        sd_psc : mapping of str to float
            Between-subject SD of the true amplitude per ROI (psc).

        Returns
        -------
        dict of str to float
            ``gain^2 sd^2 / (gain^2 sd^2 + error_sd^2)``: the share of the
            estimate's between-subject variance that is true-score variance
            (classical test theory); NaN where both are zero.
        """
        out = {}
        for name, sd in sd_psc.items():
            true_var = (self.gain[name] * sd) ** 2
            total = true_var + self.error_sd_psc[name] ** 2
            out[name] = float(true_var / total) if total > 0 else float("nan")
        return out


def power_rng(seed: int, seed_offset: int, *key: int) -> np.random.Generator:
    """Generator of one part of the power simulations.

    Parameters
    ----------
    seed : int
        The study's master seed.
    seed_offset : int
        ``power.seed_offset``; the power streams use ``seed + seed_offset``.
    *key : int
        Spawn key of the part (e.g. the sample size), so that adding a sample
        size leaves the others' draws unchanged.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(np.random.SeedSequence(seed + seed_offset, spawn_key=key))


def null_pairs(config: Mapping[str, Any]) -> dict[tuple[str, str], bool]:
    """Which ROI x score pairs have a population correlation of exactly zero.

    An ROI amplitude depends on the trait only through its
    ``trait_coupling``; D and U only through theirs; willingness to harm,
    ``1 - (1 - U) D``, through either.

    Parameters
    ----------
    config : mapping
        A validated configuration.

    Returns
    -------
    dict of (roi, score) to bool
    """
    behaviour = config["behaviour"]
    coupled = {
        "D": behaviour["D_trait_coupling"] != 0,
        "U": behaviour["U_trait_coupling"] != 0,
    }
    coupled["willingness_to_harm"] = coupled["D"] or coupled["U"]
    out = {}
    for roi, model in config["signal"]["rois"].items():
        for score in coupled:
            out[(roi, score)] = model["trait_coupling"] == 0 or model["sd_psc"] == 0 or (
                not coupled[score]
            )
    return out


def _draw_people(
    config: Mapping[str, Any],
    shape: tuple[int, ...],
    rng: np.random.Generator,
    measurement: MeasurementModel | None,
    scores: Sequence[str],
    measure_behaviour: bool = True,
) -> dict[str, np.ndarray]:
    """Draw people from the population model and measure them.

    Returns
    -------
    dict
        ``delta`` and ``brain`` of shape ``(*shape, n_rois)``, ``true_scores``
        and ``scores`` of shape ``(*shape, n_scores)``.
    """
    rois = list(config["signal"]["rois"])
    behaviour = config["behaviour"]
    trait = rng.standard_normal(shape)
    unique_d = rng.standard_normal(shape)
    unique_u = rng.standard_normal(shape)
    delta = np.empty((*shape, len(rois)))
    for k, name in enumerate(rois):
        model = config["signal"]["rois"][name]
        rho = model["trait_coupling"]
        unique = rng.standard_normal(shape)
        delta[..., k] = model["mean_psc"] + model["sd_psc"] * (
            rho * trait + np.sqrt(1.0 - rho**2) * unique
        )
    measurement = measurement or MeasurementModel.perfect(rois)
    gain = np.array([measurement.gain[name] for name in rois])
    error_sd = np.array([measurement.error_sd_psc[name] for name in rois])
    brain = gain * delta
    if np.any(error_sd > 0):
        brain += error_sd * rng.standard_normal(delta.shape)
    d_true = latent_to_probability(
        behaviour["D_mean"], behaviour["D_sd_logit"], behaviour["D_trait_coupling"],
        trait, unique_d,
    )
    u_true = latent_to_probability(
        behaviour["U_mean"], behaviour["U_sd_logit"], behaviour["U_trait_coupling"],
        trait, unique_u,
    )
    true_scores = {"willingness_to_harm": 1.0 - (1.0 - u_true) * d_true, "D": d_true, "U": u_true}
    if measure_behaviour:
        n_c, n_i = behaviour["n_congruent"], behaviour["n_incongruent"]
        congruent, incongruent = simulate_responses(rng, d_true, u_true, n_c, n_i)
        estimates = estimate_process_dissociation(congruent.ravel(), incongruent.ravel(), n_c, n_i)
        measured = {s: estimates[s].to_numpy(float).reshape(shape) for s in scores}
    else:
        measured = true_scores
    return {
        "delta": delta,
        "brain": brain,
        "true_scores": np.stack([true_scores[s] for s in scores], axis=-1),
        "scores": np.stack([measured[s] for s in scores], axis=-1),
    }


class _Moments:
    """Running sums for Pearson correlations over chunks of people."""

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, np.ndarray] = {}
        self.cross: dict[tuple[str, str], np.ndarray] = {}

    def add(self, people: Mapping[str, np.ndarray]) -> None:
        self.n += len(next(iter(people.values())))
        for key, values in people.items():
            self.sums[key] = self.sums.get(key, 0.0) + values.sum(axis=0)
        for a in people:
            for b in people:
                self.cross[(a, b)] = self.cross.get((a, b), 0.0) + people[a].T @ people[b]

    def correlation(self, a: str, b: str) -> np.ndarray:
        mean_a, mean_b = self.sums[a] / self.n, self.sums[b] / self.n
        cov = self.cross[(a, b)] / self.n - np.outer(mean_a, mean_b)
        var_a = np.diag(self.cross[(a, a)]) / self.n - mean_a**2
        var_b = np.diag(self.cross[(b, b)]) / self.n - mean_b**2
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.sqrt(np.outer(var_a, var_b))


def _batched_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of x with every column of y, per study.

    ``x`` is ``(studies, n, a)``, ``y`` is ``(studies, n, b)``; returns
    ``(studies, a, b)``, NaN where a variable is constant within a study.
    """
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    cross = np.matmul(np.swapaxes(x, 1, 2), y)
    norms = np.sqrt(np.einsum("snk,snk->sk", x, x))[:, :, None] * np.sqrt(
        np.einsum("snk,snk->sk", y, y)
    )[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cross / norms
    r[norms <= 1e-12 * np.maximum(norms.max(initial=0.0), 1.0)] = np.nan
    return np.clip(r, -1.0, 1.0)


def simulate_correlations(
    config: Mapping[str, Any],
    n_subjects: int,
    n_studies: int,
    rng: np.random.Generator,
    measurement: MeasurementModel | None = None,
    *,
    measure_behaviour: bool = True,
    scores: Sequence[str] | None = None,
) -> np.ndarray:
    """Simulate many studies and return each one's brain-behaviour correlations.

    Parameters
    ----------
    config : mapping
        A validated configuration (population, behaviour and ROI models).
    n_subjects : int
        Participants per study (at least 4).
    n_studies : int
        Studies to simulate.
    rng : numpy.random.Generator
        Random source.
    measurement : MeasurementModel, optional
        How ROI amplitudes are measured; perfect (gain 1, no error) if None.
    measure_behaviour : bool
        Estimate the scores from simulated dilemma responses (True) or use the
        true scores (False: perfect behavioural measurement).
    scores : sequence of str, optional
        Behavioural scores; ``analysis.scores`` of the config by default.

    Returns
    -------
    numpy.ndarray
        ``(n_studies, n_rois, n_scores)`` Pearson r, ROIs in config order;
        NaN where a score was constant within a study.
    """
    if n_subjects < 4:
        raise ValueError(f"n_subjects must be at least 4, got {n_subjects}")
    if n_studies < 1:
        raise ValueError(f"n_studies must be at least 1, got {n_studies}")
    scores = list(scores or config["analysis"]["scores"])
    n_rois = len(config["signal"]["rois"])
    out = np.empty((n_studies, n_rois, len(scores)))
    per_chunk = max(1, CHUNK_PEOPLE // n_subjects)
    for start in range(0, n_studies, per_chunk):
        stop = min(start + per_chunk, n_studies)
        people = _draw_people(
            config, (stop - start, n_subjects), rng, measurement, scores, measure_behaviour
        )
        out[start:stop] = _batched_pearson(people["brain"], people["scores"])
    return out


def pearson_p_value(r: np.ndarray, n_subjects: int) -> np.ndarray:
    """Two-sided p value of Pearson's r from its t statistic with n - 2 df.

    Parameters
    ----------
    r : numpy.ndarray
        Correlations (NaN allowed).
    n_subjects : int
        Sample size of each correlation.

    Returns
    -------
    numpy.ndarray
        ``2 * P(T > |r| sqrt((n - 2) / (1 - r^2)))``, as :func:`scipy.stats.pearsonr`.
    """
    r = np.asarray(r, float)
    df = n_subjects - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(r) * np.sqrt(df / np.maximum(1.0 - r**2, 0.0))
    return 2.0 * special.stdtr(df, -t)


def fisher_z_power(
    rho: np.ndarray | float, n_subjects: np.ndarray | int, alpha: float
) -> np.ndarray:
    """Analytic power of a two-sided test of a correlation (Fisher z approximation).

    Parameters
    ----------
    rho : float or numpy.ndarray
        Population correlation.
    n_subjects : int or numpy.ndarray
        Sample size (> 3).
    alpha : float
        Two-sided significance level.

    Returns
    -------
    numpy.ndarray
        ``Phi(s - z) + Phi(-s - z)`` with ``s = atanh|rho| sqrt(n - 3)`` and
        ``z = z_{1 - alpha/2}`` (Cohen 1988, ch. 3).
    """
    shift = np.arctanh(np.abs(np.asarray(rho, float))) * np.sqrt(np.asarray(n_subjects) - 3.0)
    critical = stats.norm.isf(alpha / 2.0)
    return stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift)


def summarise_correlations(
    r: np.ndarray, n_subjects: int, r_population: np.ndarray, alpha: float
) -> dict[str, np.ndarray]:
    """Power, spread and inflation of simulated correlations.

    Parameters
    ----------
    r : numpy.ndarray
        ``(n_studies, ...)`` simulated correlations.
    n_subjects : int
        Participants per study.
    r_population : numpy.ndarray
        Population correlation of each pair (shape ``r.shape[1:]``); zero
        marks a null pair, for which exaggeration and type S are undefined.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    dict of str to numpy.ndarray
        ``power`` (share of studies with p < alpha; for a null pair the
        false-positive rate), ``power_mc_se`` (binomial Monte Carlo SE),
        ``r_median``, ``r_q025``, ``r_q975``, ``r_mean``,
        ``mean_abs_r_significant``, ``exaggeration_ratio`` (that over
        ``|r_population|``), ``type_s`` (share of significant studies whose r
        has the opposite sign of ``r_population``), ``n_significant`` and
        ``n_undefined`` (studies where r was undefined; never significant).
    """
    n_studies = r.shape[0]
    r_population = np.asarray(r_population, float)
    significant = pearson_p_value(r, n_subjects) < alpha
    n_significant = significant.sum(axis=0)
    power = n_significant / n_studies
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_sig = np.where(significant, np.abs(r), 0.0).sum(axis=0) / n_significant
        wrong = (significant & (np.sign(r) != np.sign(r_population))).sum(axis=0)
        type_s = np.where(r_population != 0, wrong / n_significant, np.nan)
        exaggeration = np.where(r_population != 0, abs_sig / np.abs(r_population), np.nan)
    quantiles = np.nanquantile(r, [0.025, 0.5, 0.975], axis=0)
    return {
        "power": power,
        "power_mc_se": np.sqrt(power * (1 - power) / n_studies),
        "r_median": quantiles[1],
        "r_q025": quantiles[0],
        "r_q975": quantiles[2],
        "r_mean": np.nanmean(r, axis=0),
        "mean_abs_r_significant": abs_sig,
        "exaggeration_ratio": exaggeration,
        "type_s": type_s,
        "n_significant": n_significant,
        "n_undefined": np.isnan(r).sum(axis=0),
    }


def expected_correlations(
    config: Mapping[str, Any],
    measurement: MeasurementModel,
    rng: np.random.Generator,
    n_draws: int = 1_000_000,
    scores: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Population correlations, reliabilities and the correlation a study estimates.

    Parameters
    ----------
    config : mapping
        A validated configuration.
    measurement : MeasurementModel
        How ROI amplitudes are measured.
    rng : numpy.random.Generator
        Random source.
    n_draws : int
        Simulated people (Monte Carlo SE of each r about ``(1 - r^2) / sqrt(n_draws)``).
    scores : sequence of str, optional
        Behavioural scores; ``analysis.scores`` by default.

    Returns
    -------
    pandas.DataFrame
        One row per ROI x score: ``null_pair``; ``r_population`` (true
        amplitude vs. true score, exactly 0 for a null pair);
        ``reliability_brain`` (:meth:`MeasurementModel.reliability`);
        ``reliability_behaviour`` (squared correlation of the true score with
        the score estimated from binomial dilemma responses);
        ``r_attenuated`` (Spearman's ``r_population * sqrt(rel_brain * rel_behaviour)``);
        and ``r_expected`` (measured amplitude vs. measured score, computed
        directly: the value a study's r scatters around).
    """
    scores = list(scores or config["analysis"]["scores"])
    rois = list(config["signal"]["rois"])
    is_null = null_pairs(config)
    reliability_brain = measurement.reliability(
        {name: model["sd_psc"] for name, model in config["signal"]["rois"].items()}
    )
    moments = _Moments()
    for start in range(0, n_draws, CHUNK_PEOPLE):
        people = _draw_people(
            config, (min(CHUNK_PEOPLE, n_draws - start),), rng, measurement, scores
        )
        moments.add(people)
    r_true = moments.correlation("delta", "true_scores")
    r_measured = moments.correlation("brain", "scores")
    r_behaviour = np.diag(moments.correlation("true_scores", "scores"))
    rows = []
    for j, score in enumerate(scores):
        rel_behaviour = float(r_behaviour[j] ** 2)
        for k, roi in enumerate(rois):
            null = is_null[(roi, score)]
            r_pop = 0.0 if null else float(r_true[k, j])
            rows.append(
                {
                    "roi": roi,
                    "score": score,
                    "null_pair": null,
                    "r_population": r_pop,
                    "reliability_brain": reliability_brain[roi],
                    "reliability_behaviour": rel_behaviour,
                    "r_attenuated": r_pop * np.sqrt(reliability_brain[roi] * rel_behaviour),
                    "r_expected": 0.0 if null else float(np.nan_to_num(r_measured[k, j])),
                }
            )
    return pd.DataFrame(rows)


def power_table(
    config: Mapping[str, Any],
    sample_sizes: Sequence[int],
    n_studies: int,
    measurement: MeasurementModel,
    alpha: float,
    seed_offset: int = 0,
    *,
    n_draws: int = 1_000_000,
) -> pd.DataFrame:
    """Power, spread and inflation of every ROI x score correlation by sample size.

    Parameters
    ----------
    config : mapping
        A validated configuration.
    sample_sizes : sequence of int
        Participants per study.
    n_studies : int
        Simulated studies per sample size.
    measurement : MeasurementModel
        How ROI amplitudes are measured (:func:`calibrate_measurement`).
    alpha : float
        Two-sided significance level of each test.
    seed_offset : int
        ``power.seed_offset``: the draws come from :func:`power_rng`, one
        stream per sample size.
    n_draws : int
        People in the large sample of :func:`expected_correlations`.

    Returns
    -------
    pandas.DataFrame
        One row per sample size x ROI x score: the columns of
        :func:`expected_correlations`, of :func:`summarise_correlations`,
        ``power_fisher_z`` (analytic power at ``r_expected``, what the Monte
        Carlo should match), ``power_fisher_z_perfect`` (at ``r_population``:
        a perfectly measured study), ``exaggeration_ratio_expected`` (mean
        ``|r|`` among significant studies over ``|r_expected|``),
        ``n_studies`` and ``alpha``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if any(int(n) < 4 for n in sample_sizes):
        raise ValueError(f"sample_sizes must all be at least 4, got {list(sample_sizes)}")
    scores = list(config["analysis"]["scores"])
    rois = list(config["signal"]["rois"])
    expected = expected_correlations(
        config, measurement, power_rng(config["seed"], seed_offset, 0), n_draws, scores
    )
    r_population = expected["r_population"].to_numpy().reshape(len(scores), len(rois)).T
    tables = []
    for n in sorted({int(n) for n in sample_sizes}):
        rng = power_rng(config["seed"], seed_offset, 1, n)
        r = simulate_correlations(config, n, n_studies, rng, measurement, scores=scores)
        summary = summarise_correlations(r, n, r_population, alpha)
        table = expected.copy()
        table.insert(0, "sample_size", n)
        for key, values in summary.items():
            table[key] = np.asarray(values).T.ravel()
        table["power_fisher_z"] = fisher_z_power(table["r_expected"], n, alpha)
        table["power_fisher_z_perfect"] = fisher_z_power(table["r_population"], n, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["exaggeration_ratio_expected"] = np.where(
                table["null_pair"], np.nan,
                table["mean_abs_r_significant"] / table["r_expected"].abs(),
            )
        table["n_studies"] = n_studies
        table["alpha"] = alpha
        tables.append(table)
        logger.info("N = %d: %d studies simulated", n, n_studies)
    return pd.concat(tables, ignore_index=True)


def signal_gain(
    config: Mapping[str, Any], smoothing_fwhm_mm: float, space: Any = None
) -> dict[str, float]:
    """Share of each ROI's planted amplitude that its smoothed ROI mean recovers.

    The first level smooths the BOLD images before the GLM and scales every
    voxel to its own mean, so the estimate in a voxel is
    ``G(baseline * profile) / G(baseline)`` times the amplitude, where ``G`` is
    nilearn's Gaussian smoothing; averaged over the ROI this is the gain. It
    ignores the mismatch between each subject's HRF and the canonical one
    (validation reports the observed slope of estimate on truth for comparison).

    Parameters
    ----------
    config : mapping
        A validated configuration (anatomy and signal).
    smoothing_fwhm_mm : float
        First-level smoothing (0 = none: gain 1).
    space : SimulationSpace, optional
        From :func:`empathy_fmri.simulate.build_space` (built if None).

    Returns
    -------
    dict of str to float
        Gain per ROI, in config order.
    """
    from nilearn.image import smooth_img

    from empathy_fmri.bids import to_volume
    from empathy_fmri.simulate import build_space

    space = space or build_space(dict(config))
    rois = list(config["signal"]["rois"])
    if not smoothing_fwhm_mm:
        return {name: 1.0 for name in rois}
    affine = space.anatomy.affine
    baseline = to_volume(space.baseline.astype(float), space.mask)
    volumes = [baseline] + [to_volume(space.roi_profiles[n], space.mask) * baseline for n in rois]
    stacked = nib.Nifti1Image(np.stack(volumes, axis=-1), affine)
    smoothed = np.asarray(smooth_img(stacked, smoothing_fwhm_mm).dataobj)
    gains = {}
    for k, name in enumerate(rois, start=1):
        mask = space.roi_masks[name]
        gains[name] = float(np.mean(smoothed[..., k][mask] / smoothed[..., 0][mask]))
    return gains


def _load(img: Any) -> np.ndarray:
    if isinstance(img, (str, Path)):
        img = nib.load(img)
    return np.asarray(img.dataobj, dtype=np.float32)


def calibrate_measurement(
    effect_imgs: Sequence[Any],
    variance_imgs: Sequence[Any],
    roi_masks: Mapping[str, np.ndarray],
    roi_centres_mm: Mapping[str, Sequence[float]],
    affine: np.ndarray,
    min_distance_mm: float,
    max_positions: int = 2000,
) -> pd.DataFrame:
    """Measurement-error variance of each ROI mean, from first-level maps.

    The first-level variance map gives each voxel's error variance; the
    ROI mean's variance also depends on how strongly neighbouring voxels'
    errors correlate (smooth noise plus analysis smoothing): it is
    ``c * mean voxel variance`` with ``c`` between ``1 / n_voxels``
    (independent voxels) and 1 (identical voxels). ``c`` is measured, not
    modelled: the ROI's shape is moved to positions of the same subjects'
    needle-minus-swab effect maps farther than ``min_distance_mm`` from every
    ROI centre, where the true effect is zero by design, so the mean there is
    pure error; ``c = mean(mean^2) / mean(voxel variance)`` over positions and
    subjects. This assumes the error's spatial correlation is stationary,
    which holds for the simulator's noise; it also absorbs any misfit of the
    first-level variance (e.g. imperfect prewhitening).

    Parameters
    ----------
    effect_imgs, variance_imgs : sequence of Niimg-like or path
        Each subject's needle-minus-swab effect and variance maps.
    roi_masks : mapping of str to numpy.ndarray
        Boolean 3D ROI masks on the maps' grid.
    roi_centres_mm : mapping of str to (x, y, z)
        Centres of the ROIs (positions near any of them are excluded).
    affine : numpy.ndarray
        Affine of the maps.
    min_distance_mm : float
        Smallest distance between a null position and an ROI centre; take at
        least twice the ROI radius plus twice the smoothing FWHM.
    max_positions : int
        At most this many null positions (evenly spaced) per ROI.

    Returns
    -------
    pandas.DataFrame
        One row per ROI: ``roi``, ``n_voxels``, ``n_subjects``,
        ``mean_voxel_variance`` (psc^2, mean over subjects and ROI voxels),
        ``n_null_positions``, ``null_mean_square`` and
        ``null_mean_voxel_variance`` (the sums behind ``c``, kept so that
        calibrations can be pooled), ``correlation_factor`` (``c``),
        ``effective_voxels`` (``1 / c``) and ``error_sd_psc``
        (``sqrt(c * mean_voxel_variance)``).
    """
    if len(effect_imgs) != len(variance_imgs) or len(effect_imgs) == 0:
        raise ValueError(
            f"effect_imgs and variance_imgs must be non-empty and of equal length, "
            f"got {len(effect_imgs)} and {len(variance_imgs)}"
        )
    effects = np.stack([_load(img) for img in effect_imgs])
    variances = np.stack([_load(img) for img in variance_imgs])
    valid = np.all(np.isfinite(effects) & np.isfinite(variances) & (variances > 0), axis=0)
    inverse = np.linalg.inv(affine)
    ijk_valid = np.argwhere(valid)
    world = ijk_valid @ affine[:3, :3].T + affine[:3, 3]
    centres = np.asarray([roi_centres_mm[name] for name in roi_masks], float)
    far = np.min(np.linalg.norm(world[:, None, :] - centres[None], axis=-1), axis=1)
    candidates = ijk_valid[far > min_distance_mm]
    rows = []
    for name, mask in roi_masks.items():
        voxels = np.argwhere(mask & valid)
        if len(voxels) == 0:
            raise ValueError(f"ROI '{name}' has no voxel with a finite, positive variance")
        centre = np.rint(inverse[:3, :3] @ np.asarray(roi_centres_mm[name], float)
                         + inverse[:3, 3]).astype(int)
        offsets = voxels - centre
        moved = _null_positions(candidates, offsets, valid, max_positions)
        roi_variance = variances[:, voxels[:, 0], voxels[:, 1], voxels[:, 2]].mean(axis=1)
        row = {
            "roi": name,
            "n_voxels": len(voxels),
            "n_subjects": len(effects),
            "mean_voxel_variance": float(roi_variance.mean()),
            "n_null_positions": len(moved),
            "null_mean_square": np.nan,
            "null_mean_voxel_variance": np.nan,
        }
        if len(moved):
            index = (slice(None), moved[..., 0], moved[..., 1], moved[..., 2])
            row["null_mean_square"] = float(np.mean(effects[index].mean(axis=-1) ** 2))
            row["null_mean_voxel_variance"] = float(np.mean(variances[index].mean(axis=-1)))
        else:
            logger.warning("ROI %s: no null position; assuming independent voxels", name)
        rows.append(row)
    return finish_calibration(pd.DataFrame(rows))


def _null_positions(
    candidates: np.ndarray, offsets: np.ndarray, valid: np.ndarray, max_positions: int,
    chunk: int = 4096,
) -> np.ndarray:
    """Voxel sets of an ROI shape moved to candidate centres where all voxels are valid.

    Returns ``(n_positions, n_voxels, 3)`` indices, at most ``max_positions``
    evenly spaced ones; candidates are checked in chunks to bound memory.
    """
    shape = np.asarray(valid.shape)
    keep = []
    for start in range(0, len(candidates), chunk):
        moved = candidates[start:start + chunk, None, :] + offsets[None]
        inside = np.all((moved >= 0) & (moved < shape), axis=(1, 2))
        ok = np.zeros(len(moved), bool)
        inner = moved[inside]
        ok[inside] = valid[inner[..., 0], inner[..., 1], inner[..., 2]].all(axis=1)
        keep.append(candidates[start:start + chunk][ok])
    centres = np.concatenate(keep) if keep else np.empty((0, 3), int)
    if len(centres) > max_positions:
        centres = centres[np.linspace(0, len(centres) - 1, max_positions).astype(int)]
    return centres[:, None, :] + offsets[None]


def finish_calibration(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``correlation_factor``, ``effective_voxels`` and ``error_sd_psc`` to sums.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`calibrate_measurement` (or pooled sums of several).

    Returns
    -------
    pandas.DataFrame
        The table with the derived columns (re)computed; where no null
        position was available, voxels are taken as independent (a lower
        bound of the error).
    """
    table = table.copy()
    factor = table["null_mean_square"] / table["null_mean_voxel_variance"]
    factor = factor.fillna(1.0 / table["n_voxels"]).clip(upper=1.0)
    table["correlation_factor"] = factor
    table["effective_voxels"] = 1.0 / factor
    table["error_sd_psc"] = np.sqrt(factor * table["mean_voxel_variance"])
    return table


def run_measurement_model(
    effect_paths: Sequence[str | Path],
    variance_paths: Sequence[str | Path],
    config: Mapping[str, Any],
    table_path: str | Path,
) -> None:
    """Calibrate the fast Monte Carlo's measurement model from a run's first level.

    Parameters
    ----------
    effect_paths, variance_paths : sequence of path
        Needle-minus-swab effect and variance maps of every subject.
    config : mapping
        A validated configuration.
    table_path : path
        Output TSV: the columns of :func:`calibrate_measurement` plus
        ``gain`` (:func:`signal_gain`), ``sd_psc`` (the population
        between-subject SD) and ``reliability_brain``.
    """
    from empathy_fmri.anatomy import grey_matter_on
    from empathy_fmri.atomic import write_tsv
    from empathy_fmri.roi import roi_masks

    anatomy = config["anatomy"]
    smoothing = config["analysis"]["smoothing_fwhm_mm"]
    reference = nib.load(effect_paths[0])
    grey = grey_matter_on(reference, anatomy["grey_matter_threshold"])
    masks = roi_masks(anatomy["rois"], anatomy["roi_radius_mm"], reference.affine, grey)
    table = calibrate_measurement(
        effect_paths, variance_paths, masks, anatomy["rois"], reference.affine,
        min_distance_mm=2 * anatomy["roi_radius_mm"] + 2 * smoothing + config["noise"]["fwhm_mm"],
    )
    gain = signal_gain(config, smoothing)
    sd = {name: model["sd_psc"] for name, model in config["signal"]["rois"].items()}
    table["gain"] = table["roi"].map(gain)
    table["sd_psc"] = table["roi"].map(sd)
    model = MeasurementModel.from_table(table)
    table["reliability_brain"] = table["roi"].map(model.reliability(sd))
    for row in table.itertuples():
        logger.info(
            "%s: %d voxels, c = %.3f (%.1f effective voxels), error SD %.3f psc, gain %.2f",
            row.roi, row.n_voxels, row.correlation_factor, row.effective_voxels,
            row.error_sd_psc, row.gain,
        )
    write_tsv(table_path, table)


def run_power(
    config: Mapping[str, Any], measurement_path: str | Path, table_path: str | Path
) -> None:
    """Run :func:`power_table` with the config's ``power`` section and write it.

    The study's own ``n_subjects`` (if at least 4) is always among the sample
    sizes, so that validation can say how often a study of this size detects
    each effect.

    Parameters
    ----------
    config : mapping
        A validated configuration with a ``power`` section.
    measurement_path : path
        ``measurement_model.tsv`` from :func:`run_measurement_model`.
    table_path : path
        Output TSV.
    """
    import time

    from empathy_fmri.atomic import write_tsv

    power = config["power"]
    measurement = MeasurementModel.from_table(pd.read_csv(measurement_path, sep="\t"))
    own = [config["n_subjects"]] if config["n_subjects"] >= 4 else []
    sizes = sorted({*power["sample_sizes"], *own})
    start = time.perf_counter()
    table = power_table(
        config, sizes, power["n_studies"], measurement, power["alpha"], power["seed_offset"]
    )
    elapsed = time.perf_counter() - start
    logger.info(
        "%d sample sizes x %d studies in %.1f s (%.0f studies/s)",
        len(sizes), power["n_studies"], elapsed, len(sizes) * power["n_studies"] / elapsed,
    )
    write_tsv(table_path, table)
