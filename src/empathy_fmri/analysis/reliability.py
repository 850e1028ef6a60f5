"""Split-half reliability of the per-subject ROI estimates: ICC(3,1) and Spearman-Brown.

Each subject's needle-minus-swab ROI amplitude is estimated twice, once from
each half of their data (:func:`empathy_fmri.analysis.roi_glm.split_halves`).
How well the two halves agree across subjects is the intraclass correlation
ICC(3,1) (Shrout & Fleiss 1979; "ICC(C,1)", consistency, two-way mixed, of
McGraw & Wong 1996): the share of a half's between-subject variance that the
halves have in common, ignoring a mean difference between them (the halves are
fixed, not sampled). Its 95% interval is McGraw & Wong's F interval. The
reliability of the estimate from all the data, twice as long as a half, is
projected with the Spearman-Brown formula ``2 icc / (1 + icc)`` (which for two
halves equals ICC(3,2)), and so are the interval's bounds, the formula being
increasing in ``icc``.

References: Shrout PE, Fleiss JL (1979) Psychol Bull 86:420-428; McGraw KO,
Wong SP (1996) Psychol Methods 1:30-46 (and its 1996 correction, Psychol
Methods 1:390).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "HALF_ESTIMATES",
    "RELIABILITY_COLUMNS",
    "IccResult",
    "icc_consistency",
    "spearman_brown",
    "split_half_reliability",
]

logger = logging.getLogger(__name__)

#: Columns of ``roi_contrasts.tsv`` holding each half's ROI-mean GLM estimate.
HALF_ESTIMATES = ("needle_minus_swab_half1", "needle_minus_swab_half2")

#: Columns of :func:`split_half_reliability` (``reliability.tsv``), in order.
RELIABILITY_COLUMNS = (
    "roi",
    "selection",
    "score",
    "estimate",
    "split",
    "n_subjects",
    "mean_half1",
    "mean_half2",
    "icc",
    "icc_ci_low",
    "icc_ci_high",
    "spearman_brown",
    "sb_ci_low",
    "sb_ci_high",
)


@dataclass(frozen=True)
class IccResult:
    """ICC(3,1) of a subjects x measurements table, with its interval.

    Attributes
    ----------
    icc : float
        ``(MS_subjects - MS_error) / (MS_subjects + (k - 1) MS_error)``.
    ci_low, ci_high : float
        Bounds of McGraw & Wong's (1996) interval at the requested confidence.
    f_value : float
        ``MS_subjects / MS_error``, F with ``df1`` and ``df2`` degrees of freedom.
    df1, df2 : int
        ``n - 1`` and ``(n - 1)(k - 1)``.
    n_subjects, n_measurements : int
        ``n`` and ``k``.
    """

    icc: float
    ci_low: float
    ci_high: float
    f_value: float
    df1: int
    df2: int
    n_subjects: int
    n_measurements: int


def icc_consistency(ratings: ArrayLike, confidence: float = 0.95) -> IccResult:
    """ICC(3,1): consistency of single measurements, two-way mixed model.

    The two-way ANOVA without replication of ``ratings`` (subjects in rows,
    measurements, e.g. judges or halves of the data, in columns) splits the
    sum of squares into subjects, measurements and error:
    ``MS_R = k SS(row means) / (n - 1)``, ``MS_E = SS_error / ((n - 1)(k - 1))``.
    ``ICC(3,1) = (MS_R - MS_E) / (MS_R + (k - 1) MS_E)``; with
    ``F = MS_R / MS_E``, ``F_L = F / F_{1-a/2}(n - 1, (n - 1)(k - 1))`` and
    ``F_U = F F_{1-a/2}((n - 1)(k - 1), n - 1)``, the interval is
    ``((F_L - 1) / (F_L + k - 1), (F_U - 1) / (F_U + k - 1))`` (McGraw &
    Wong 1996, Table 7, case 3, ICC(C,1)). A mean difference between the
    measurements does not lower it.

    Parameters
    ----------
    ratings : array_like of shape (n_subjects, n_measurements)
        Finite values; at least 2 subjects and 2 measurements.
    confidence : float
        Level of the interval, in (0, 1).

    Returns
    -------
    IccResult
        The estimate lies in (-1 / (k - 1), 1]. Where the error mean square
        is zero (the measurements agree exactly up to a shift) the estimate
        and both bounds are 1; where every mean square is zero, NaN.

    Raises
    ------
    ValueError
        If ``ratings`` is not two-dimensional, has fewer than 2 rows or
        columns or a value that is not finite, or ``confidence`` is not in (0, 1).
    """
    data = np.asarray(ratings, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"ratings must be 2-D (subjects x measurements), got shape {data.shape}")
    n, k = data.shape
    if n < 2 or k < 2:
        raise ValueError(
            f"ratings needs at least 2 subjects and 2 measurements, got shape {data.shape}"
        )
    if not np.isfinite(data).all():
        raise ValueError(
            f"ratings has {int((~np.isfinite(data)).sum())} value(s) that are not finite"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    grand = data.mean()
    ss_rows = k * np.sum((data.mean(axis=1) - grand) ** 2)
    ss_columns = n * np.sum((data.mean(axis=0) - grand) ** 2)
    ss_error = max(np.sum((data - grand) ** 2) - ss_rows - ss_columns, 0.0)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    ms_rows, ms_error = ss_rows / df1, ss_error / df2
    if ms_error == 0:
        value = 1.0 if ms_rows > 0 else float("nan")
        return IccResult(value, value, value, float("inf"), df1, df2, n, k)
    f_value = ms_rows / ms_error
    icc = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error)
    tail = 1 - (1 - confidence) / 2
    f_low = f_value / stats.f.ppf(tail, df1, df2)
    f_high = f_value * stats.f.ppf(tail, df2, df1)
    return IccResult(
        icc=float(icc),
        ci_low=float((f_low - 1) / (f_low + k - 1)),
        ci_high=float((f_high - 1) / (f_high + k - 1)),
        f_value=float(f_value),
        df1=df1,
        df2=df2,
        n_subjects=n,
        n_measurements=k,
    )


def spearman_brown(reliability: ArrayLike, factor: float = 2.0) -> np.ndarray:
    """Reliability of a measure ``factor`` times as long (Spearman-Brown prophecy).

    ``factor * rel / (1 + (factor - 1) * rel)``: for the two halves of a
    split, ``factor`` 2 gives the reliability of the whole. It increases with
    ``rel`` on ``(-1 / (factor - 1), 1]``, so the bounds of an interval of
    ``rel`` map to the bounds of the projected one.

    Parameters
    ----------
    reliability : array_like
        Reliabilities (e.g. ICC(3,1) of the halves), each in
        ``[-1 / (factor - 1), 1]`` or NaN (the lower end projects to ``-inf``).
    factor : float
        How many times longer the projected measure is; at least 1.

    Returns
    -------
    numpy.ndarray
        The projected reliabilities (NaN stays NaN), of the input's shape.

    Raises
    ------
    ValueError
        If ``factor`` is below 1 or a reliability is outside its range.
    """
    if not factor >= 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    rel = np.asarray(reliability, dtype=float)
    known = rel[~np.isnan(rel)]
    floor = -1 / (factor - 1) if factor > 1 else -np.inf
    if np.any(known > 1) or np.any(known < floor):
        raise ValueError(
            f"reliability must be in [{floor:g}, 1] for factor {factor:g}, got values from "
            f"{known.min():g} to {known.max():g}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        # at the floor (halves that share nothing and subjects that differ in nothing)
        # the projection is -inf
        return np.where(rel == floor, -np.inf, factor * rel / (1 + (factor - 1) * rel))


def split_half_reliability(
    roi_table: pd.DataFrame, confidence: float = 0.95, min_subjects: int = 3
) -> pd.DataFrame:
    """ICC(3,1) of the two halves' ROI estimates per ROI, selection and score.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv``: ``participant_id``, ``roi``, ``selection``,
        ``score`` and the halves' ROI-mean GLM estimates
        :data:`HALF_ESTIMATES`, with ``split`` (how each subject's data were
        halved, :func:`empathy_fmri.analysis.roi_glm.split_halves`).
    confidence : float
        Level of the intervals.
    min_subjects : int
        Fewer subjects with both halves than this (at least 2) leave the row
        empty (NaN), with a warning.

    Returns
    -------
    pandas.DataFrame
        One row per ROI x selection x score, in the table's order, with the
        columns :data:`RELIABILITY_COLUMNS`: ``estimate`` is
        ``roi_mean_glm`` (the halves are ROI-mean GLMs whatever
        ``analysis.roi_estimate`` is), ``split`` the subjects' splits (joined
        by ``+`` if they differ), ``n_subjects`` those with both halves,
        ``mean_half1`` and ``mean_half2`` their mean estimates (a difference
        does not lower the ICC), ``icc`` with its interval, and the
        Spearman-Brown projection to the whole data with its interval.

    Raises
    ------
    ValueError
        If ``roi_table`` lacks a column, or ``min_subjects`` is below 2.
    """
    required = {"participant_id", "roi", "selection", "split", *HALF_ESTIMATES}
    missing = sorted(required - set(roi_table.columns))
    if missing:
        raise ValueError(
            f"roi_table lacks the column(s) {missing} (the split-half estimates of the "
            "ROI-mean GLMs)"
        )
    if min_subjects < 2:
        raise ValueError(f"min_subjects must be at least 2, got {min_subjects}")
    table = roi_table if "score" in roi_table else roi_table.assign(score="all")
    rows = []
    for (roi, selection, score), group in table.groupby(["roi", "selection", "score"], sort=False):
        halves = group[list(HALF_ESTIMATES)].to_numpy(float)
        both = np.isfinite(halves).all(axis=1)
        splits = sorted({str(s) for s in group.loc[both, "split"]})
        if len(splits) > 1:
            logger.warning(
                "%s / %s / %s: the subjects' data were halved in different ways (%s); "
                "the ICC mixes them",
                roi,
                selection,
                score,
                ", ".join(splits),
            )
        row = {
            "roi": roi,
            "selection": selection,
            "score": score,
            "estimate": "roi_mean_glm",
            "split": "+".join(splits) if splits else "none",
            "n_subjects": int(both.sum()),
            "mean_half1": float(halves[both, 0].mean()) if both.any() else np.nan,
            "mean_half2": float(halves[both, 1].mean()) if both.any() else np.nan,
        }
        if both.sum() < min_subjects:
            logger.warning(
                "%s / %s / %s: %d subject(s) with an estimate from both halves, fewer than %d; "
                "no split-half reliability",
                roi,
                selection,
                score,
                int(both.sum()),
                min_subjects,
            )
            icc = (np.nan, np.nan, np.nan)
        else:
            result = icc_consistency(halves[both], confidence)
            icc = (result.icc, result.ci_low, result.ci_high)
        projected = spearman_brown(np.asarray(icc), 2.0)
        row.update(
            icc=icc[0],
            icc_ci_low=icc[1],
            icc_ci_high=icc[2],
            spearman_brown=float(projected[0]),
            sb_ci_low=float(projected[1]),
            sb_ci_high=float(projected[2]),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))
