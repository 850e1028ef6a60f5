"""Inference about correlations: Pearson p from r, Fisher z power, batched r and Holm."""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def batched_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of x with every column of y, per study.

    ``x`` is ``(studies, n, a)``, ``y`` is ``(studies, n, b)``; returns
    ``(studies, a, b)``, NaN where a variable is constant within a study.
    """
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    cross = np.matmul(np.swapaxes(x, 1, 2), y)
    norms = (
        np.sqrt(np.einsum("snk,snk->sk", x, x))[:, :, None]
        * np.sqrt(np.einsum("snk,snk->sk", y, y))[:, None, :]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cross / norms
    r[norms <= 1e-12 * np.maximum(norms.max(initial=0.0), 1.0)] = np.nan
    return np.clip(r, -1.0, 1.0)


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


def batched_holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p values of many families at once.

    Row by row the same numbers as
    :func:`empathy_fmri.analysis.brain_behaviour.holm` (the correction the
    study's analysis applies), vectorised over the families: within a row the
    ``m`` finite p values are sorted, the i-th smallest (0-based) is scaled by
    ``m - i``, the running maximum is taken and capped at 1. NaN stays NaN
    and does not count towards ``m``; tied p values get the same adjusted
    value whatever their order.

    Parameters
    ----------
    p_values : numpy.ndarray
        ``(n_families, m)`` unadjusted p values, one family (e.g. one
        simulated study's ROI x score tests) per row; NaN allowed.

    Returns
    -------
    numpy.ndarray
        ``(n_families, m)`` adjusted p values, in the input order.
    """
    p = np.asarray(p_values, float)
    if p.ndim != 2:
        raise ValueError(f"p_values must be 2-D (families x tests), got shape {p.shape}")
    # argsort puts NaN last, so each row's finite p values come first, ascending
    order = np.argsort(p, axis=1, kind="stable")
    ordered = np.take_along_axis(p, order, axis=1)
    n_valid = np.isfinite(p).sum(axis=1, keepdims=True)
    scaled = (n_valid - np.arange(p.shape[1])) * ordered  # NaN past n_valid
    adjusted_ordered = np.minimum(np.maximum.accumulate(scaled, axis=1), 1.0)
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, adjusted_ordered, axis=1)
    return adjusted


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


def dependent_correlation_z(r_a: float, r_b: float, r_ab: float, n_subjects: int) -> float:
    """Steiger's Z for two correlations that share a variable (e.g. two estimates vs truth).

    Tests ``rho(x, a) = rho(x, b)`` from ``r_a = r(x, a)``, ``r_b = r(x, b)`` and
    ``r_ab = r(a, b)`` in one sample (Steiger 1980, Psychol Bull 87:245, eq. 15).
    Because ``a`` and ``b`` are correlated, the difference of their Fisher z
    values varies far less than that of two independent correlations.

    Parameters
    ----------
    r_a, r_b : float
        The two correlations with the shared variable.
    r_ab : float
        The correlation between the two other variables.
    n_subjects : int
        Sample size (> 3).

    Returns
    -------
    float
        Approximately standard normal under the null; positive when ``r_a > r_b``.
    """
    if n_subjects <= 3:
        raise ValueError(f"n_subjects must exceed 3, got {n_subjects}")
    mean_sq = ((r_a + r_b) / 2.0) ** 2
    psi = r_ab * (1 - 2 * mean_sq) - 0.5 * mean_sq * (1 - 2 * mean_sq - r_ab**2)
    covariance = psi / (1 - mean_sq) ** 2
    return float(
        (np.arctanh(r_a) - np.arctanh(r_b))
        * np.sqrt(n_subjects - 3)
        / np.sqrt(max(2 - 2 * covariance, 1e-12))
    )
