"""How the sample size sets the precision of a correlation: Fisher interval, significance.

Power is not computed here: there is one power model,
:func:`empathy_fmri.evaluation.monte_carlo.power_table` (``results/power``),
whose simulated studies :meth:`empathy_fmri.evaluation.power_inputs.PowerInputs.studies`
returns; these helpers describe such studies.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "correlation_interval",
    "significance_and_interval",
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


def significance_and_interval(
    samples: dict[int, np.ndarray], rho: float, alpha: float = 0.05
) -> tuple[dict[int, np.ndarray], dict[int, tuple[float, float]]]:
    """Which simulated studies are significant, and the interval of a study that hit rho.

    Parameters
    ----------
    samples : dict of int to numpy.ndarray
        Sample size -> sample correlations, e.g. one pair of
        :meth:`~empathy_fmri.evaluation.power_inputs.PowerInputs.studies`.
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
