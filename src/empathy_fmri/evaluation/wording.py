"""Numbers as the plain-language texts write them (summary.md and the bottom line alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["number", "percent"]


def number(value: float | None, digits: int = 2) -> str:
    """A number with a real minus sign (U+2212); ``n/a`` when missing or not finite.

    Parameters
    ----------
    value : float or None
        The number.
    digits : int
        Decimals; a value that rounds to zero is written without a sign.

    Returns
    -------
    str
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) < 0.5 * 10.0**-digits:
        value = 0.0
    return f"{value:.{digits}f}".replace("-", "\u2212")


def percent(value: float | None) -> str:
    """A share as a percentage: one decimal below 10% (0.7%, 8.1%), none above (23%).

    Parameters
    ----------
    value : float or None
        Share in [0, 1].

    Returns
    -------
    str
        ``n/a`` when missing or not finite.
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    share = 100 * value
    if share < 10 and round(share, 1) != round(share):
        return f"{share:.1f}%"
    return f"{share:.0f}%"
