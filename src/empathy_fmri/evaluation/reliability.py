"""The split-half reliability of a simulated study against the reliability it truly had.

The analysis estimates each ROI estimate's reliability from the agreement of
two halves of the data (:mod:`empathy_fmri.analysis.reliability`), without a
truth. A simulation knows each subject's true amplitude of the region an ROI
measures, so the reliability of an estimate with respect to it is the share
of the estimate's variance across subjects that the true amplitude explains,
the squared correlation ``r^2`` between them (classical test theory: a
reliability is the squared correlation of the observed with the true score).
:func:`reliability_recovery` puts the two side by side, half against half
(ICC(3,1)) and all the data against all the data (the Spearman-Brown
projection), each with its interval, and flags whether the analysis's
interval covers the truth.

The two need not agree exactly: what the halves share is "true" to the ICC,
and that includes more than the region's amplitude (the run's own amplitude
when the halves are blocks of one run, ``signal.run_sd_psc``; signal of
neighbouring regions; the subject's HRF), so the ICC may exceed the ``r^2``
with the region.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from empathy_fmri.analysis.reliability import HALF_ESTIMATES, RELIABILITY_COLUMNS
from empathy_fmri.evaluation.sample_size import correlation_interval

__all__ = [
    "RELIABILITY_RECOVERY_COLUMNS",
    "reliability_recovery",
    "squared_correlation_interval",
]

logger = logging.getLogger(__name__)

#: The all-data estimate the halves are halves of (the ROI-mean GLM).
FULL_ESTIMATE = "needle_minus_swab_roi_glm"

#: Columns of :func:`reliability_recovery`, in order.
RELIABILITY_RECOVERY_COLUMNS = (
    "roi",
    "selection",
    "score",
    "split",
    "n_subjects",
    "icc",
    "icc_ci_low",
    "icc_ci_high",
    "true_reliability_half1",
    "true_reliability_half1_ci_low",
    "true_reliability_half1_ci_high",
    "true_reliability_half2",
    "true_reliability_half2_ci_low",
    "true_reliability_half2_ci_high",
    "true_reliability_half",
    "icc_ci_covers_truth",
    "spearman_brown",
    "sb_ci_low",
    "sb_ci_high",
    "true_reliability_full",
    "true_reliability_full_ci_low",
    "true_reliability_full_ci_high",
    "sb_ci_covers_truth",
    "model_reliability_full",
)


def squared_correlation_interval(
    x: np.ndarray, y: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``r^2`` of two samples with the Fisher-z interval of ``r`` squared.

    Parameters
    ----------
    x, y : numpy.ndarray
        Paired samples (pairs with a NaN are left out).
    confidence : float
        Level of the interval.

    Returns
    -------
    tuple of float
        ``r^2``, low, high: the bounds of ``r``'s Fisher interval squared, 0
        as the low bound where that interval holds 0; NaN with fewer than 4
        pairs or a constant sample.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 4 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return (np.nan, np.nan, np.nan)
    r = float(np.corrcoef(x[keep], y[keep])[0, 1])
    low, high = (float(v) for v in correlation_interval(r, int(keep.sum()), confidence))
    squares = (low**2, high**2)
    return (r**2, 0.0 if low <= 0 <= high else min(squares), max(squares))


def reliability_recovery(
    reliability: pd.DataFrame,
    roi_table: pd.DataFrame,
    truth: pd.DataFrame,
    model_reliability: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Grade the split-half reliability of every ROI estimate against the truth.

    Parameters
    ----------
    reliability : pandas.DataFrame
        ``reliability.tsv`` (:func:`~empathy_fmri.analysis.reliability.split_half_reliability`).
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv``: ``participant_id``, ``roi``, ``selection``,
        ``score``, the halves' estimates and ``needle_minus_swab_roi_glm``.
    truth : pandas.DataFrame
        ``participants_truth.tsv``: ``participant_id`` and ``true_<region>``
        per simulated region (an ROI measures the region of its name).
    model_reliability : mapping of str to float, optional
        Per ROI, the calibrated measurement model's reliability of the
        independent ROI's all-data estimate (``reliability_brain`` of
        ``measurement_model.tsv``,
        :meth:`~empathy_fmri.evaluation.measurement.MeasurementModel.reliability`
        at the population SD of the true amplitude); fills
        ``model_reliability_full`` of the independent rows.
    confidence : float
        Level of the intervals of ``r^2``.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``reliability``, with :data:`RELIABILITY_RECOVERY_COLUMNS`:
        the analysis's ICC and Spearman-Brown projection with their
        intervals; ``true_reliability_half<k>``, the ``r^2`` over subjects of
        half k's estimate with the true amplitude (Fisher interval);
        ``true_reliability_half``, their mean, and whether the ICC's interval
        covers it; ``true_reliability_full``, the same for the all-data
        ROI-mean GLM estimate, and whether the Spearman-Brown interval covers
        it; ``model_reliability_full``, the measurement model's reliability
        of that estimate (independent ROIs only). ROIs without a simulated
        region of their name have NaN truths.

    Raises
    ------
    ValueError
        If a table lacks a column it needs.
    """
    missing = sorted(set(RELIABILITY_COLUMNS) - set(reliability.columns))
    if missing:
        raise ValueError(f"reliability lacks the column(s) {missing}")
    needed = {"participant_id", "roi", "selection", "score", FULL_ESTIMATE, *HALF_ESTIMATES}
    missing = sorted(needed - set(roi_table.columns))
    if missing:
        raise ValueError(f"roi_table lacks the column(s) {missing}")
    if "participant_id" not in truth.columns:
        raise ValueError("truth lacks the column 'participant_id'")
    truth = truth.set_index("participant_id")
    rows = []
    for row in reliability.itertuples(index=False):
        group = roi_table[
            (roi_table["roi"] == row.roi)
            & (roi_table["selection"] == row.selection)
            & (roi_table["score"].astype(str) == str(row.score))
        ].set_index("participant_id")
        column = f"true_{row.roi}"
        record = {
            name: getattr(row, name)
            for name in (
                "roi",
                "selection",
                "score",
                "split",
                "n_subjects",
                "icc",
                "icc_ci_low",
                "icc_ci_high",
                "spearman_brown",
                "sb_ci_low",
                "sb_ci_high",
            )
        }
        if column in truth.columns:
            # the subjects of the ICC: both halves estimated
            both = group[list(HALF_ESTIMATES)].notna().all(axis=1)
            common = group.index[both].intersection(truth.index)
            true = truth.loc[common, column].to_numpy(float)
            values = {
                "half1": group.loc[common, HALF_ESTIMATES[0]],
                "half2": group.loc[common, HALF_ESTIMATES[1]],
                "full": group.loc[common, FULL_ESTIMATE],
            }
            for name, estimate in values.items():
                r2, low, high = squared_correlation_interval(estimate.to_numpy(float), true)
                record[f"true_reliability_{name}"] = r2
                record[f"true_reliability_{name}_ci_low"] = low
                record[f"true_reliability_{name}_ci_high"] = high
        else:
            logger.info("ROI %s measures no simulated region: no true reliability", row.roi)
        rows.append(record)
    table = pd.DataFrame(rows).reindex(columns=list(RELIABILITY_RECOVERY_COLUMNS))
    table["true_reliability_half"] = (
        table["true_reliability_half1"] + table["true_reliability_half2"]
    ) / 2
    for flag, prefix, truth_column in [
        ("icc_ci_covers_truth", "icc", "true_reliability_half"),
        ("sb_ci_covers_truth", "sb", "true_reliability_full"),
    ]:
        low, high, true = (
            table[f"{prefix}_ci_low"],
            table[f"{prefix}_ci_high"],
            table[truth_column],
        )
        covers = ((low <= true) & (true <= high)).astype("boolean")
        # unknown, not False, where there is no interval or no truth
        covers[low.isna() | high.isna() | true.isna()] = pd.NA
        table[flag] = covers
    if model_reliability is not None:
        independent = table["selection"] == "independent"
        table.loc[independent, "model_reliability_full"] = table.loc[independent, "roi"].map(
            dict(model_reliability)
        )
    table["model_reliability_full"] = table["model_reliability_full"].astype(float)
    return table
