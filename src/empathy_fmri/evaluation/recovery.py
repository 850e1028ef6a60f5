"""Recovery of the truth by one simulated study: per-subject amplitudes and correlations.

- :func:`amplitude_recovery`: how close are the per-subject ROI estimates of
  the needle-minus-swab amplitude to the true amplitudes (correlation, bias,
  RMSE, slope)?
- :func:`correlation_recovery`: how far is each brain-behaviour r from the
  population r, and from the r expected after attenuation by measurement
  error (Spearman 1904: ``r_true * sqrt(rel_brain * rel_behaviour)``)?

Maps are graded in :mod:`empathy_fmri.evaluation.map_accuracy`, and
:mod:`empathy_fmri.evaluation.summary` says it all in words.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.task.scores import SCORE_NAMES

__all__ = [
    "ALTERNATIVE_ESTIMATES",
    "SCORE_LABELS",
    "amplitude_recovery",
    "correlation_recovery",
]

logger = logging.getLogger(__name__)

#: How the summary names each behavioural score (one wording everywhere).
SCORE_LABELS = SCORE_NAMES


#: Columns of ``roi_contrasts.tsv`` holding each ROI estimate (``analysis.roi_estimate``).
ALTERNATIVE_ESTIMATES = {
    "smoothed_average": "needle_minus_swab_smoothed",
    "roi_mean_glm": "needle_minus_swab_roi_glm",
}


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return float("nan")
    return float(np.corrcoef(x[keep], y[keep])[0, 1])


def amplitude_recovery(
    estimates: pd.DataFrame,
    truth: pd.DataFrame,
    measurement: MeasurementModel | None = None,
) -> pd.DataFrame:
    """Compare per-subject ROI estimates with the true amplitudes.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Long table with ``participant_id``, ``roi``, ``selection`` and
        ``needle_minus_swab`` (psc), as ``roi_contrasts.tsv``.
    truth : pandas.DataFrame
        ``participant_id`` and a ``true_<roi>`` column per ROI (psc), as
        ``participants_truth.tsv``.
    measurement : MeasurementModel, optional
        The calibrated measurement model, whose predicted gain and error SD
        are reported beside the observed ones.

    Returns
    -------
    pandas.DataFrame
        One row per ROI x selection (x score, for the ROIs chosen on one:
        ``score`` is ``all`` otherwise): ``n``, ``mean_true``, ``mean_estimate``,
        ``bias`` (mean of estimate - truth), ``rmse``, ``r`` (Pearson, estimate
        vs. truth), ``slope`` and ``intercept`` (least squares of estimate on
        truth), ``residual_sd`` (SD of the estimate around that line),
        ``true_sd`` (between-subject SD of the true amplitudes in this sample)
        and, with ``measurement``, ``gain_model`` and ``error_sd_model``.
        Where ``estimates`` holds both ROI estimates (``roi_contrasts.tsv``:
        ``needle_minus_swab_smoothed`` and ``needle_minus_swab_roi_glm``),
        ``r_smoothed_average`` and ``r_roi_mean_glm`` give each one's
        correlation with the truth side by side, so the choice of
        ``analysis.roi_estimate`` can be seen.
    """
    required = {"participant_id", "roi", "selection", "needle_minus_swab"}
    missing = required - set(estimates.columns)
    if missing:
        raise ValueError(f"estimates lacks the column(s) {sorted(missing)}")
    if "participant_id" not in truth.columns:
        raise ValueError("truth lacks the column 'participant_id'")
    truth = truth.set_index("participant_id")
    if "score" not in estimates:
        estimates = estimates.assign(score="all")
    rows = []
    for (selection, score, roi), group in estimates.groupby(
        ["selection", "score", "roi"], sort=False
    ):
        column = f"true_{roi}"
        if column not in truth.columns:
            raise ValueError(f"truth lacks the column '{column}' for ROI '{roi}'")
        group = group.set_index("participant_id")
        common = group.index.intersection(truth.index)
        estimate = group.loc[common, "needle_minus_swab"].to_numpy(float)
        true = truth.loc[common, column].to_numpy(float)
        error = estimate - true
        row: dict[str, Any] = {
            "roi": roi,
            "selection": selection,
            "score": score,
            "n": len(common),
            "mean_true": float(true.mean()),
            "mean_estimate": float(estimate.mean()),
            "bias": float(error.mean()),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "r": np.nan,
            "slope": np.nan,
            "intercept": np.nan,
            "residual_sd": np.nan,
            "true_sd": float(true.std(ddof=1)) if len(true) > 1 else np.nan,
        }
        if len(common) >= 3 and np.ptp(true) > 0 and np.ptp(estimate) > 0:
            slope, intercept = np.polyfit(true, estimate, 1)
            residual = estimate - (slope * true + intercept)
            row.update(
                r=float(np.corrcoef(true, estimate)[0, 1]),
                slope=float(slope),
                intercept=float(intercept),
                residual_sd=float(np.sqrt(np.sum(residual**2) / (len(true) - 2))),
            )
        for name, source in ALTERNATIVE_ESTIMATES.items():
            if source in group.columns:
                row[f"r_{name}"] = _correlation(group.loc[common, source].to_numpy(float), true)
        if measurement is not None:
            row["gain_model"] = measurement.gain.get(roi, np.nan)
            row["error_sd_model"] = measurement.error_sd_psc.get(roi, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def correlation_recovery(
    stats_table: pd.DataFrame,
    population: pd.DataFrame,
    power: pd.DataFrame,
    alpha: float,
) -> pd.DataFrame:
    """Compare each brain-behaviour r with the population and attenuated r.

    Parameters
    ----------
    stats_table : pandas.DataFrame
        ``brain_behaviour.tsv``: ``roi``, ``selection``, ``score``, ``n``,
        ``r``, ``ci_low``, ``ci_high``, ``p``, ``p_corrected``.
    population : pandas.DataFrame
        ``population_correlations.tsv`` of the truth: ``roi``, ``score``,
        ``r`` (true amplitude vs. true score), ``r_measured_score``.
    power : pandas.DataFrame
        ``power.tsv`` rows at this study's sample size: ``roi``, ``score``,
        ``reliability_brain``, ``reliability_behaviour``, ``r_expected``,
        ``power``.
    alpha : float
        Significance level for the ``significant`` columns.

    Returns
    -------
    pandas.DataFrame
        The statistics columns plus ``r_population``,
        ``r_population_measured_score``, ``reliability_brain``,
        ``reliability_behaviour``, ``r_attenuated`` (Spearman:
        ``r_population * sqrt(reliability_brain * reliability_behaviour)``),
        ``r_expected`` (the fast Monte Carlo's direct value),
        ``power`` (share of studies of this size with p < alpha) and, where
        the power table has it, ``power_holm`` (with the Holm correction),
        ``error_vs_population`` and ``error_vs_attenuated`` (r minus each),
        ``inflation`` (``|r|`` minus ``|r_attenuated|``, the attenuation-predicted
        r: selecting on the data inflates the size of r whatever its sign; the
        same prediction for every selection, so a selection's own bias shows
        as the difference of its inflation from the independent row's),
        ``ci_covers_population``, ``ci_covers_attenuated``, ``significant``
        and ``significant_corrected``.
    """
    for name, table, columns in (
        ("stats_table", stats_table, {"roi", "selection", "score", "r", "ci_low", "ci_high", "p"}),
        ("population", population, {"roi", "score", "r", "r_measured_score"}),
        (
            "power",
            power,
            {"roi", "score", "reliability_brain", "reliability_behaviour", "r_expected", "power"},
        ),
    ):
        missing = columns - set(table.columns)
        if missing:
            raise ValueError(f"{name} lacks the column(s) {sorted(missing)}")
    pop = population[["roi", "score", "r", "r_measured_score"]].rename(
        columns={"r": "r_population", "r_measured_score": "r_population_measured_score"}
    )
    fast = power[
        ["roi", "score", "reliability_brain", "reliability_behaviour", "r_expected", "power"]
        + (["power_holm"] if "power_holm" in power else [])
    ]
    table = stats_table.merge(pop, on=["roi", "score"], how="left").merge(
        fast, on=["roi", "score"], how="left"
    )
    table["r_attenuated"] = table["r_population"] * np.sqrt(
        table["reliability_brain"] * table["reliability_behaviour"]
    )
    table["error_vs_population"] = table["r"] - table["r_population"]
    table["error_vs_attenuated"] = table["r"] - table["r_attenuated"]
    table["inflation"] = table["r"].abs() - table["r_attenuated"].abs()
    table["ci_covers_population"] = (table["ci_low"] <= table["r_population"]) & (
        table["r_population"] <= table["ci_high"]
    )
    table["ci_covers_attenuated"] = (table["ci_low"] <= table["r_attenuated"]) & (
        table["r_attenuated"] <= table["ci_high"]
    )
    table["significant"] = table["p"] < alpha
    if "p_corrected" in table.columns:
        table["significant_corrected"] = table["p_corrected"] < alpha
    return table
