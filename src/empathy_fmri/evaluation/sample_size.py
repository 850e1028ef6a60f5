"""How the sample size sets the precision of a correlation (Fisher z, sampling).

Summary-level teaching tools: they treat the brain measure and the score as
bivariate normal with correlation ``rho`` and skip the fMRI pipeline, so they
show the best case (no extra measurement noise) of a study of ``n`` people.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "correlation_interval",
    "sample_size_summary",
    "significance_and_interval",
    "simulate_correlations",
]


def correlation_interval(
    r: float | np.ndarray, n: int | np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Fisher-z confidence interval of a Pearson correlation.

    Parameters
    ----------
    r : float or numpy.ndarray
        Sample correlation(s), in (-1, 1).
    n : int or numpy.ndarray
        Sample size(s), at least 4.
    confidence_level : float
        Two-sided level.

    Returns
    -------
    tuple of numpy.ndarray
        ``low``, ``high``: ``tanh(atanh(r) -+ z_q / sqrt(n - 3))``.
    """
    n = np.asarray(n)
    if np.any(n < 4):
        raise ValueError(f"n must be at least 4 for a Fisher interval, got {n}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level}")
    z = np.arctanh(np.clip(np.asarray(r, float), -0.999999, 0.999999))
    half = stats.norm.ppf(0.5 + confidence_level / 2) / np.sqrt(n - 3)
    return np.tanh(z - half), np.tanh(z + half)


def simulate_correlations(
    rho: float, n: int, n_studies: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample correlations of many studies of ``n`` bivariate-normal people.

    Parameters
    ----------
    rho : float
        Population correlation, in (-1, 1).
    n : int
        People per study (at least 4).
    n_studies : int
        Simulated studies.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        ``(n_studies,)`` sample Pearson r.
    """
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    if n < 4 or n_studies < 1:
        raise ValueError(f"need n >= 4 and n_studies >= 1, got n = {n}, n_studies = {n_studies}")
    x = rng.standard_normal((n_studies, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n_studies, n))
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    return (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))


def sample_size_summary(
    rho: float,
    sizes: Sequence[int],
    n_studies: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Precision, power and inflation of a correlation at several sample sizes.

    Parameters
    ----------
    rho : float
        Population correlation.
    sizes : sequence of int
        Sample sizes to compare, e.g. ``(19, 100)``.
    n_studies : int
        Simulated studies per size (Monte Carlo error of the power about
        ``sqrt(p (1 - p) / n_studies)``).
    rng : numpy.random.Generator
        Random source.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``n``, ``ci_width`` (width of the 95% Fisher
        interval at ``r = rho``), ``sd_r`` (spread of the sample r),
        ``power`` (share of studies with p < alpha), ``mean_r_significant``
        (mean |r| among significant studies: the "winner's curse").
    """
    rows = []
    for n in sizes:
        r = simulate_correlations(rho, int(n), n_studies, rng)
        t = r * np.sqrt((n - 2) / (1 - r**2))
        p = 2 * stats.t.sf(np.abs(t), n - 2)
        significant = p < alpha
        low, high = correlation_interval(rho, int(n))
        rows.append(
            {
                "n": int(n),
                "ci_width": float(high - low),
                "sd_r": float(r.std(ddof=1)),
                "power": float(significant.mean()),
                "mean_r_significant": (
                    float(np.abs(r[significant]).mean()) if significant.any() else float("nan")
                ),
            }
        )
    return pd.DataFrame(rows)


def significance_and_interval(
    samples: dict[int, np.ndarray], rho: float, alpha: float = 0.05
) -> tuple[dict[int, np.ndarray], dict[int, tuple[float, float]]]:
    """Which simulated studies are significant, and the interval of a study that hit rho.

    Parameters
    ----------
    samples : dict of int to numpy.ndarray
        Sample size -> sample correlations (:func:`simulate_correlations`).
    rho : float
        Population correlation.
    alpha : float
        Two-sided significance level of the t test of r.

    Returns
    -------
    significant : dict of int to numpy.ndarray
        Boolean, per study.
    intervals : dict of int to (float, float)
        The 95% Fisher interval of ``r = rho`` at each sample size.
    """
    from empathy_fmri.evaluation.inference import pearson_p_value

    significant = {n: pearson_p_value(np.asarray(r, float), n) < alpha for n, r in samples.items()}
    intervals = {}
    for n in samples:
        low, high = correlation_interval(rho, n)
        intervals[n] = (float(low), float(high))
    return significant, intervals
