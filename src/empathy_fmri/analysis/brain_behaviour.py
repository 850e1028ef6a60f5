"""Brain-behaviour statistics: correlations, permutation p, bootstrap CI, Holm."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from empathy_fmri.analysis.roi_selection import ALL

__all__ = [
    "brain_behaviour_table",
    "correlate",
    "holm",
]

logger = logging.getLogger(__name__)


def _pearson_along(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson r along an axis, vectorised for scipy's resampling functions."""
    x = x - x.mean(axis=axis, keepdims=True)
    y = y - y.mean(axis=axis, keepdims=True)
    numerator = (x * y).sum(axis=axis)
    denominator = np.sqrt((x * x).sum(axis=axis) * (y * y).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator


def correlate(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_permutations: int = 5000,
    n_bootstrap: int = 2000,
    confidence_level: float = 0.95,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Pearson and Spearman correlation with permutation p and bootstrap CI.

    Parameters
    ----------
    x, y : numpy.ndarray
        Paired observations; pairs with a NaN are dropped.
    n_permutations : int
        Resamples of :func:`scipy.stats.permutation_test` (pairings).
    n_bootstrap : int
        Resamples of :func:`scipy.stats.bootstrap` (BCa, paired).
    confidence_level : float
        Level of both intervals.
    rng : numpy.random.Generator
        Random source of the resampling.

    Returns
    -------
    dict
        ``n``, ``r``, ``ci_low``, ``ci_high`` (Fisher-z interval of
        :func:`scipy.stats.pearsonr`), ``p_parametric``, ``p`` (two-sided
        permutation p), ``spearman_rho``, ``spearman_p``, ``bootstrap_ci_low``,
        ``bootstrap_ci_high``.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    nan = float("nan")
    result = {
        "n": n,
        "r": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_parametric": nan,
        "p": nan,
        "spearman_rho": nan,
        "spearman_p": nan,
        "bootstrap_ci_low": nan,
        "bootstrap_ci_high": nan,
    }
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        logger.warning("correlation undefined (n = %d or a constant variable)", n)
        return result
    pearson = stats.pearsonr(x, y)
    interval = pearson.confidence_interval(confidence_level)
    permutation = stats.permutation_test(
        (x,),
        lambda xs, axis=-1: _pearson_along(xs, y, axis=axis),
        permutation_type="pairings",
        n_resamples=n_permutations,
        alternative="two-sided",
        vectorized=True,
        rng=rng,
    )
    spearman = stats.spearmanr(x, y)
    bootstrap = stats.bootstrap(
        (x, y),
        _pearson_along,
        paired=True,
        vectorized=True,
        n_resamples=n_bootstrap,
        confidence_level=confidence_level,
        method="BCa",
        rng=rng,
    )
    result.update(
        r=float(pearson.statistic),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        p_parametric=float(pearson.pvalue),
        p=float(permutation.pvalue),
        spearman_rho=float(spearman.statistic),
        spearman_p=float(spearman.pvalue),
        bootstrap_ci_low=float(bootstrap.confidence_interval.low),
        bootstrap_ci_high=float(bootstrap.confidence_interval.high),
    )
    return result


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p values (family-wise error control).

    scipy offers Benjamini-Hochberg (``false_discovery_control``) but not
    Holm, so it is written out here; NaN stays NaN.

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p values of one family.

    Returns
    -------
    numpy.ndarray
        Adjusted p values, in the input order.
    """
    p = np.asarray(p_values, float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    if m == 0:
        return adjusted
    order = valid[np.argsort(p[valid])]
    scaled = (m - np.arange(m)) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def brain_behaviour_table(
    roi_table: pd.DataFrame,
    phenotype: pd.DataFrame,
    scores: Sequence[str],
    *,
    n_permutations: int = 5000,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Correlate every ROI x selection with every behavioural score.

    An ROI chosen on one score (``score`` column not ``all``: the
    ``behaviour_peak`` and ``cross_validated`` selections) is correlated with
    that score only.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        Long table with ``participant_id``, ``roi``, ``selection`` and
        ``needle_minus_swab``, optionally ``score`` (``all`` where the ROI
        holds for every score; all of them without the column).
    phenotype : pandas.DataFrame
        Indexed by ``participant_id``, with a column per score.
    scores : sequence of str
        Score columns to correlate.
    n_permutations, n_bootstrap : int
        Resamples per correlation.
    seed : int
        Seed of the resampling (one generator for the whole table).

    Returns
    -------
    pandas.DataFrame
        One row per ``roi`` x ``selection`` x ``score`` with the columns of
        :func:`correlate` and ``p_corrected`` (Holm across the ROI x score
        family within a selection).
    """
    required = {"participant_id", "roi", "selection", "needle_minus_swab"}
    missing = required - set(roi_table.columns)
    if missing:
        raise ValueError(f"roi_table lacks the column(s) {sorted(missing)}")
    rng = np.random.default_rng(seed)
    if "score" not in roi_table:
        roi_table = roi_table.assign(score=ALL)
    rows = []
    for (selection, roi, chosen_on), group in roi_table.groupby(
        ["selection", "roi", "score"], sort=False
    ):
        brain = group.set_index("participant_id")["needle_minus_swab"]
        common = brain.index.intersection(phenotype.index)
        if len(common) < 4:
            raise ValueError(
                f"only {len(common)} participants of ROI {roi} have a row in the phenotype "
                "file (participant_id must match, e.g. 'sub-01'); a correlation needs 4"
            )
        if len(common) < len(brain):
            logger.warning(
                "%d participants of ROI %s have no phenotype row",
                len(brain) - len(common),
                roi,
            )
        for score in scores if chosen_on == ALL else [s for s in scores if s == chosen_on]:
            result = correlate(
                brain.loc[common].to_numpy(),
                phenotype.loc[common, score].to_numpy(float),
                n_permutations=n_permutations,
                n_bootstrap=n_bootstrap,
                rng=rng,
            )
            rows.append({"roi": roi, "selection": selection, "score": score, **result})
    table = pd.DataFrame(rows)
    table["p_corrected"] = np.nan
    for _, family in table.groupby("selection"):
        table.loc[family.index, "p_corrected"] = holm(family["p"].to_numpy())
    return table
