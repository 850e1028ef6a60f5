"""Summaries that figures show: ROI effect means with t intervals, regression bands of r."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def roi_effect_summary(roi_table: pd.DataFrame, confidence_level: float = 0.95) -> pd.DataFrame:
    """Mean needle-minus-swab effect per ROI and selection, with a t interval.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv``: ``roi``, ``selection``, ``needle_minus_swab``.
    confidence_level : float
        Level of the interval (two-sided).

    Returns
    -------
    pandas.DataFrame
        ``roi``, ``selection``, ``n``, ``mean``, ``sd``, ``ci_low``,
        ``ci_high`` (mean +- t quantile x standard error), in the input's ROI
        and selection order; rows of ROIs chosen on one score (``score`` not
        ``all``) are left out.
    """
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level}")
    missing = {"roi", "selection", "needle_minus_swab"} - set(roi_table.columns)
    if missing:
        raise ValueError(f"roi_table lacks the column(s) {sorted(missing)}")
    if "score" in roi_table:
        # one summary per ROI definition: the selections chosen on a score have one per score
        roi_table = roi_table[roi_table["score"].astype(str) == "all"]
    rows = []
    for (roi, selection), group in roi_table.groupby(["roi", "selection"], sort=False):
        values = group["needle_minus_swab"].to_numpy(float)
        n = values.size
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if n > 1 else float("nan")
        half = (
            stats.t.ppf(0.5 + confidence_level / 2, n - 1) * sd / np.sqrt(n)
            if n > 1
            else float("nan")
        )
        rows.append(
            {
                "roi": roi,
                "selection": selection,
                "n": n,
                "mean": mean,
                "sd": sd,
                "ci_low": mean - half,
                "ci_high": mean + half,
            }
        )
    return pd.DataFrame(rows)


def regression_band(
    x: np.ndarray, y: np.ndarray, grid: np.ndarray, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares line of ``y`` on ``x`` and the confidence band of its mean.

    Parameters
    ----------
    x, y : numpy.ndarray
        Paired observations (at least three).
    grid : numpy.ndarray
        Where to evaluate the line.
    confidence_level : float
        Level of the pointwise band of the fitted mean.

    Returns
    -------
    tuple of numpy.ndarray
        ``fit``, ``low``, ``high`` on the grid.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    if n < 3 or np.ptp(x) == 0:
        raise ValueError(f"a regression band needs at least 3 distinct x values, got n = {n}")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    s = np.sqrt(residual @ residual / (n - 2))
    sxx = ((x - x.mean()) ** 2).sum()
    grid = np.asarray(grid, float)
    fit = intercept + slope * grid
    se = s * np.sqrt(1.0 / n + (grid - x.mean()) ** 2 / sxx)
    half = stats.t.ppf(0.5 + confidence_level / 2, n - 2) * se
    return fit, fit - half, fit + half
