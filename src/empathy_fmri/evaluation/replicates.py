"""Complete simulated studies, end to end, to check the fast Monte Carlo.

A replicate study runs the same library functions as the workflow, in
memory: simulate every subject (:func:`empathy_fmri.simulation.subject.simulate_subject`),
fit the first level (:func:`empathy_fmri.analysis.first_level.fit_first_level`), the
group map with FDR and permutation FWE (:func:`empathy_fmri.analysis.second_level.fit_group`),
extract the a-priori ROI means (:func:`empathy_fmri.analysis.roi.extract_roi_means`)
and correlate them with the dilemma scores
(:func:`empathy_fmri.analysis.brain_behaviour.brain_behaviour_table`). Replicates are run on the
coarse grid and sample size of ``power.replicates`` and differ only in their
seed. ``null`` replicates plant no needle-minus-swab effect at all, so every
voxel of their FWE map is a false positive.

:func:`compare_with_fast_mode` then checks that the replicates' distribution
of r agrees with the fast Monte Carlo of :mod:`empathy_fmri.evaluation.power` calibrated
on the same replicates, and :func:`family_wise_error` counts the replicates
whose FWE map has any false-positive voxel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from empathy_fmri.evaluation.measurement import finish_calibration

__all__ = [
    "compare_with_fast_mode",
    "family_wise_error",
    "pool_calibrations",
]

logger = logging.getLogger(__name__)


def pool_calibrations(calibrations: pd.DataFrame) -> pd.DataFrame:
    """Pool the measurement calibrations of several replicate studies per ROI.

    Parameters
    ----------
    calibrations : pandas.DataFrame
        Rows of :func:`~empathy_fmri.evaluation.power.calibrate_measurement` from many
        studies on the same grid.

    Returns
    -------
    pandas.DataFrame
        One row per ROI: variances averaged with the number of subjects (and
        null positions) as weights, derived columns recomputed.
    """
    rows = []
    for roi, group in calibrations.groupby("roi", sort=False):
        weight = group["n_subjects"].to_numpy(float)
        null_weight = weight * group["n_null_positions"].to_numpy(float)
        has_null = null_weight.sum() > 0
        rows.append(
            {
                "roi": roi,
                "n_voxels": int(group["n_voxels"].iloc[0]),
                "n_subjects": int(weight.sum()),
                "mean_voxel_variance": float(
                    np.average(group["mean_voxel_variance"], weights=weight)
                ),
                "n_null_positions": int(group["n_null_positions"].sum()),
                "null_mean_square": float(
                    np.average(group["null_mean_square"].fillna(0), weights=null_weight)
                )
                if has_null
                else np.nan,
                "null_mean_voxel_variance": float(
                    np.average(group["null_mean_voxel_variance"].fillna(0), weights=null_weight)
                )
                if has_null
                else np.nan,
                **({"estimate": group["estimate"].iloc[0]} if "estimate" in group else {}),
            }
        )
    return finish_calibration(pd.DataFrame(rows))


def _quantile_se(sample: np.ndarray, q: float, n_a: int, n_b: int) -> float:
    """SE of the difference of two sample q-quantiles (asymptotic, density from a KDE)."""
    point = np.quantile(sample, q)
    density = float(stats.gaussian_kde(sample)(point)[0])
    return float(np.sqrt(q * (1 - q) * (1 / n_a + 1 / n_b)) / density)


def compare_with_fast_mode(
    replicate_r: pd.DataFrame,
    fast_r: Mapping[tuple[str, str], np.ndarray],
    quantiles: Sequence[float] = (0.25, 0.5, 0.75),
    family_alpha: float = 0.01,
) -> pd.DataFrame:
    """Compare the replicates' r with the fast Monte Carlo's, quantile by quantile.

    The difference of a sample quantile of the ``K`` replicates and of the
    ``M`` fast-mode studies has, asymptotically, the standard error
    ``sqrt(q (1 - q) (1/K + 1/M)) / f(x_q)`` (the quantile's variance for a
    density ``f``, e.g. Serfling 1980, 2.3.3), ``f`` estimated by a Gaussian
    KDE of the fast-mode sample; the mean's difference has ``sd * sqrt(1/K + 1/M)``.
    A difference is within tolerance when ``|z|`` is below the Bonferroni
    critical value for all comparisons at a family-wise ``family_alpha``.

    Parameters
    ----------
    replicate_r : pandas.DataFrame
        ``roi``, ``score``, ``r`` of every replicate study.
    fast_r : mapping of (roi, score) to numpy.ndarray
        Fast Monte Carlo r at the same design and measurement model.
    quantiles : sequence of float
        Quantiles compared.
    family_alpha : float
        Chance that a correct fast mode fails any comparison.

    Returns
    -------
    pandas.DataFrame
        One row per pair x statistic (``q0.25``, ..., ``mean``): ``replicates``,
        ``fast``, ``difference``, ``se``, ``z``, ``z_critical``,
        ``within_tolerance``, ``ks_p`` (two-sample Kolmogorov-Smirnov p of
        the pair), ``n_replicates`` and ``n_fast``.
    """
    rows = []
    for (roi, score), fast in fast_r.items():
        fast = fast[np.isfinite(fast)]
        values = replicate_r[(replicate_r["roi"] == roi) & (replicate_r["score"] == score)]
        values = values["r"].to_numpy(float)
        values = values[np.isfinite(values)]
        n_rep, n_fast = len(values), len(fast)
        if n_rep < 2:
            raise ValueError(f"pair {roi}-{score}: fewer than 2 replicate correlations")
        ks_p = float(stats.ks_2samp(values, fast).pvalue)
        for q in quantiles:
            rows.append(
                {
                    "roi": roi,
                    "score": score,
                    "statistic": f"q{q:g}",
                    "replicates": float(np.quantile(values, q)),
                    "fast": float(np.quantile(fast, q)),
                    "se": _quantile_se(fast, q, n_rep, n_fast),
                    "ks_p": ks_p,
                    "n_replicates": n_rep,
                    "n_fast": n_fast,
                }
            )
        rows.append(
            {
                "roi": roi,
                "score": score,
                "statistic": "mean",
                "replicates": float(values.mean()),
                "fast": float(fast.mean()),
                "se": float(fast.std(ddof=1) * np.sqrt(1 / n_rep + 1 / n_fast)),
                "ks_p": ks_p,
                "n_replicates": n_rep,
                "n_fast": n_fast,
            }
        )
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("se"), "difference", table["replicates"] - table["fast"])
    table["z"] = table["difference"] / table["se"]
    table["z_critical"] = stats.norm.isf(family_alpha / (2 * len(table)))
    table["within_tolerance"] = table["z"].abs() <= table["z_critical"]
    return table


def family_wise_error(summaries: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Family-wise false-positive rate of the FWE map across replicate studies.

    Parameters
    ----------
    summaries : pandas.DataFrame
        :attr:`ReplicateResult.summary` of every replicate, one row each.
    alpha : float
        The nominal family-wise error rate.

    Returns
    -------
    pandas.DataFrame
        One row per kind: ``n_studies``, ``n_family_wise_false_positive``
        (studies with any FWE voxel outside the true regions), ``rate``, its
        Clopper-Pearson 95% interval, ``p_above_alpha`` (one-sided binomial
        p of so many or more if the rate were ``alpha``) and the same count
        for distant false positives (beyond the near margin).
    """
    rows = []
    for kind, group in summaries.groupby("kind", sort=False):
        n = len(group)
        k = int(group["family_wise_false_positive"].astype(bool).sum())
        distant = int(group["family_wise_distant_false_positive"].astype(bool).sum())
        interval = stats.binomtest(k, n, alpha).proportion_ci(0.95)
        rows.append(
            {
                "kind": kind,
                "n_studies": n,
                "n_family_wise_false_positive": k,
                "rate": k / n,
                "ci_low": float(interval.low),
                "ci_high": float(interval.high),
                "p_above_alpha": float(stats.binom.sf(k - 1, n, alpha)),
                "n_distant_family_wise_false_positive": distant,
                "rate_distant": distant / n,
                "alpha": alpha,
            }
        )
    return pd.DataFrame(rows)
