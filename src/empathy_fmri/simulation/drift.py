"""Low-frequency drift with a power-law spectrum, reaching into the analysis band.

Scanner heating and slow physiology give BOLD time series a spectrum that
rises towards low frequencies like ``1 / f^alpha`` (Zarahn, Aguirre &
D'Esposito 1997; He 2011 finds exponents near 1 in grey matter). Such drift is
not confined below the usual 1/128 Hz high-pass cut-off: with ``alpha = 1``
and a 5 min run, about 60% of its variance lies above the cut-off, where the
first level's cosine basis cannot remove it and an AR(1) noise model does not
describe it.

The drift is drawn in the discrete cosine basis that nilearn's ``cosine``
drift model uses (``cos(pi k (n + 1/2) / N)``, frequency ``k / (2 N TR)``),
with the variance of coefficient ``k`` proportional to ``k^-alpha``. So the
share of the drift a high-pass filter removes is known exactly: the variance
of its first ``floor(2 N TR f_c)`` coefficients.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GLOBAL_SHARE",
    "cosine_basis",
    "expected_share_above",
    "power_law_series",
]

#: Share of the drift variance that is the same time course in every voxel
#: (scanner drift, global physiology); the rest varies smoothly over space.
GLOBAL_SHARE = 0.5


def cosine_basis(n_scans: int) -> np.ndarray:
    """Orthonormal cosines ``k = 1 .. n_scans - 1`` (columns), as nilearn's drift model."""
    n = np.arange(n_scans)[:, None]
    k = np.arange(1, n_scans)[None, :]
    return np.sqrt(2.0 / n_scans) * np.cos(np.pi / n_scans * (n + 0.5) * k)


def power_law_series(
    rng: np.random.Generator, n_scans: int, exponent: float, n_series: int
) -> np.ndarray:
    """Zero-mean, unit-variance series whose power falls as ``f^-exponent``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n_scans : int
        Volumes.
    exponent : float
        Spectral exponent ``alpha`` (0 white, 1 pink, 2 a random walk's).
    n_series : int
        Independent series to draw.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_series)``, each column scaled to unit variance over the run.
    """
    k = np.arange(1, n_scans)
    coefficients = rng.standard_normal((k.size, n_series)) * k[:, None] ** (-exponent / 2)
    series = cosine_basis(n_scans) @ coefficients
    return series / series.std(axis=0)


def expected_share_above(n_scans: int, tr_s: float, exponent: float, cutoff_hz: float) -> float:
    """Expected share of the drift variance above a cosine high-pass cut-off.

    Parameters
    ----------
    n_scans : int
        Volumes.
    tr_s : float
        Repetition time (s).
    exponent : float
        Spectral exponent of the drift.
    cutoff_hz : float
        High-pass cut-off; nilearn removes the cosines ``k <= floor(2 N TR f_c)``.

    Returns
    -------
    float
        Share in [0, 1].
    """
    k = np.arange(1, n_scans, dtype=float)
    power = k ** (-exponent)
    removed = int(np.floor(2 * n_scans * tr_s * cutoff_hz))
    return float(power[removed:].sum() / power.sum())
