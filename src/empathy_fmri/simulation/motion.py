"""Head motion: rigid-body random walk, its confounds table and its effect on the image."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "HEAD_RADIUS_MM",
    "MOTION_COLUMNS",
    "confounds_table",
    "motion_effect",
    "motion_parameters",
    "realignment_estimate",
]

#: fMRIPrep's names of the six rigid-body parameters (mm and radians).
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")

#: Radius (mm) that turns a rotation into a displacement (Power et al. 2012).
HEAD_RADIUS_MM = 50.0


def motion_parameters(rng: np.random.Generator, n_scans: int, step_mm: float) -> np.ndarray:
    """Draw a rigid-body random walk of head position.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n_scans : int
        Volumes.
    step_mm : float
        SD of each parameter's frame-to-frame step: mm for translations, and
        for rotations the mm they move a point at :data:`HEAD_RADIUS_MM`.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, 6)``: translations (mm) and rotations (radians) relative to
        the first volume, in :data:`MOTION_COLUMNS` order.
    """
    if step_mm < 0:
        raise ValueError(f"step_mm must be >= 0, got {step_mm}")
    steps = rng.standard_normal((n_scans, 6)) * step_mm
    steps[:, 3:] /= HEAD_RADIUS_MM
    steps[0] = 0.0
    return np.cumsum(steps, axis=0)


def realignment_estimate(
    rng: np.random.Generator, parameters: np.ndarray, step_mm: float
) -> np.ndarray:
    """What realignment would report: the true motion plus estimation error.

    Realignment estimates head position with an error of a few hundredths of
    a millimetre; giving the analysis the exact generating parameters would
    make motion regression an oracle. The error is white, with SD a fifth of
    the motion step (same units convention as :func:`motion_parameters`).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    parameters : numpy.ndarray
        ``(n_scans, 6)`` true motion.
    step_mm : float
        The motion step SD that generated them.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, 6)`` estimated motion.
    """
    error = rng.standard_normal(parameters.shape) * (0.2 * step_mm)
    error[:, 3:] /= HEAD_RADIUS_MM
    return parameters + error


def confounds_table(parameters: np.ndarray) -> pd.DataFrame:
    """The motion parameters as fMRIPrep writes them, with derivatives and FD.

    Parameters
    ----------
    parameters : numpy.ndarray
        ``(n_scans, 6)`` from :func:`motion_parameters`.

    Returns
    -------
    pandas.DataFrame
        Columns ``trans_x`` ... ``rot_z``, their ``_derivative1`` (first row
        NaN, written ``n/a``) and ``framewise_displacement`` (Power et al. 2012).
    """
    table = pd.DataFrame(parameters, columns=list(MOTION_COLUMNS))
    derivatives = table.diff()
    for column in MOTION_COLUMNS:
        table[f"{column}_derivative1"] = derivatives[column]
    step = derivatives.abs()
    table["framewise_displacement"] = step[list(MOTION_COLUMNS[:3])].sum(axis=1) + (
        HEAD_RADIUS_MM * step[list(MOTION_COLUMNS[3:])].sum(axis=1)
    )
    table.loc[0, "framewise_displacement"] = np.nan
    return table


def motion_effect(
    parameters: np.ndarray, image_gradient: np.ndarray, coordinates_mm: np.ndarray
) -> np.ndarray:
    """Intensity change caused by head motion, to first order.

    A voxel at ``r`` sees the image displaced by ``d = t + w x r`` (small-angle
    rotation ``w``), so its intensity changes by ``-grad(B) . d``. The result is
    linear in the six parameters, per voxel, so regressing them out removes it,
    as motion confounds do in real data.

    Parameters
    ----------
    parameters : numpy.ndarray
        ``(n_scans, 6)`` translations (mm) and rotations (rad).
    image_gradient : numpy.ndarray
        ``(n_voxels, 3)`` spatial gradient of the baseline image (units/mm).
    coordinates_mm : numpy.ndarray
        ``(n_voxels, 3)`` voxel positions relative to the centre of rotation.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_voxels)`` float32.
    """
    rotation_gain = np.cross(coordinates_mm, image_gradient)
    gains = -np.concatenate([image_gradient, rotation_gain], axis=1)
    return (parameters @ gains.T).astype(np.float32)
