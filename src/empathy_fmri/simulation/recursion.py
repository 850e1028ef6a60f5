"""First-order recursions along time, for the spin-history decay."""

from __future__ import annotations

import numpy as np

__all__ = ["decaying_sum"]


def decaying_sum(values: np.ndarray, decay: float) -> np.ndarray:
    """``h[t] = x[t] + decay * h[t - 1]`` along the first axis, in place.

    The same as ``scipy.signal.lfilter([1], [1, -decay], x, axis=0)``, but a
    loop over the scans, each step one operation on a whole row of voxels:
    on ``(n_scans, n_voxels)`` arrays in C order that is about 20 times
    faster than ``lfilter``, which filters every voxel's strided series on
    its own.

    Parameters
    ----------
    values : numpy.ndarray
        ``(n_scans, ...)``, overwritten with the result.
    decay : float
        The coefficient of the previous value.

    Returns
    -------
    numpy.ndarray
        ``values``.
    """
    decay = values.dtype.type(decay)
    step = np.empty_like(values[0])
    for scan in range(1, values.shape[0]):
        np.multiply(values[scan - 1], decay, out=step)
        values[scan] += step
    return values
