"""Head motion: a heavy-tailed random walk, flinches, and what motion does to the image.

Motion changes the image in ways the six realignment parameters describe only
in part, so regressing them out (as a first level does) leaves some behind:

- the image moves: each voxel reads the baseline at its displaced position,
  to second order (the curvature term, which six linear regressors would not
  remove; the first-order ``grad(B) . d`` they would remove exactly);
- spin history: through-plane movement brings spins whose magnetisation has
  not recovered into a slice, a signal drop that lasts a few TRs (T1) and
  depends on the size of the movement, not its direction (Friston et al. 1996);
- realignment estimates the motion with an error, so the regressors are not
  the true motion;
- motion within a volume: the slices of a volume are acquired one after
  another during the TR (:func:`slice_acquisition_times`), so each slice sees
  the head where it was at its own time. Realignment moves whole volumes and
  reports their average position, so what a slice saw beyond that average is
  left in the data, and it is not a function of the six parameters (it
  depends on how the head moved during the TR).

With ``flinch_mm`` > 0 a subject may flinch a few seconds into a needle video,
a stimulus-correlated movement that puts a spurious needle-minus-swab effect
at the brain's edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_fmri.simulation.recursion import decaying_sum

__all__ = [
    "GREY_MATTER_T1_S",
    "HEAD_RADIUS_MM",
    "MOTION_COLUMNS",
    "SLICE_ORDERS",
    "confounds_table",
    "displaced_intensity",
    "flinch_parameters",
    "image_derivatives",
    "motion_parameters",
    "realignment_estimate",
    "slice_acquisition_times",
    "slice_motion",
    "spin_history",
    "volume_motion",
]

#: fMRIPrep's names of the six rigid-body parameters (mm and radians).
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")

#: Radius (mm) that turns a rotation into a displacement (Power et al. 2012).
HEAD_RADIUS_MM = 50.0
#: T1 of grey matter at 3 T (s), which sets how long a spin-history effect lasts
#: (Wansapura et al. 1999).
GREY_MATTER_T1_S = 1.3
#: Slice orders of :func:`slice_acquisition_times` (config ``noise.slice_order``).
SLICE_ORDERS = ("interleaved", "ascending", "none")
#: Degrees of freedom of the Student t steps of the random walk: heavy tails,
#: so that a run has occasional jerks as real framewise displacement traces do.
STEP_DF = 3


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
        for rotations the mm they move a point at :data:`HEAD_RADIUS_MM`. The
        steps are Student t with :data:`STEP_DF` degrees of freedom scaled to
        this SD.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, 6)``: translations (mm) and rotations (radians) relative to
        the first volume, in :data:`MOTION_COLUMNS` order.
    """
    if step_mm < 0:
        raise ValueError(f"step_mm must be >= 0, got {step_mm}")
    steps = rng.standard_t(STEP_DF, (n_scans, 6)) * (step_mm / np.sqrt(STEP_DF / (STEP_DF - 2)))
    steps[:, 3:] /= HEAD_RADIUS_MM
    steps[0] = 0.0
    return np.cumsum(steps, axis=0)


def realignment_estimate(
    rng: np.random.Generator, parameters: np.ndarray, error_mm: float
) -> np.ndarray:
    """What realignment would report: the true motion plus estimation error.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    parameters : numpy.ndarray
        ``(n_scans, 6)`` true motion.
    error_mm : float
        SD of the white estimation error of each parameter (rotations as the
        mm they move a point at :data:`HEAD_RADIUS_MM`).

    Returns
    -------
    numpy.ndarray
        ``(n_scans, 6)`` estimated motion.
    """
    error = rng.standard_normal(parameters.shape) * error_mm
    error[:, 3:] /= HEAD_RADIUS_MM
    return parameters + error


def flinch_parameters(
    rng: np.random.Generator,
    onsets_s: np.ndarray,
    frame_times_s: np.ndarray,
    size_mm: float,
    probability: float,
) -> np.ndarray:
    """Stimulus-locked flinches: a nod and a lift of the head that return to rest.

    Each onset (a needle video) brings, with ``probability``, a transient of
    peak size ``size_mm`` (times a factor drawn around one) 2 s after the
    onset, gone after about 8 s: ``(t / 2) exp(1 - t / 2)``. Half of it is
    a translation along z and half a pitch rotation (about x) of the same
    displacement at :data:`HEAD_RADIUS_MM`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    onsets_s : numpy.ndarray
        Onsets of the videos that can cause a flinch (s).
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    size_mm : float
        Typical peak displacement (mm).
    probability : float
        Probability of a flinch per onset.

    Returns
    -------
    numpy.ndarray
        ``frame_times_s.shape + (6,)`` displacement to add to the motion
        parameters (times of any shape, e.g. ``(n_scans, n_slices)`` slice
        times).
    """
    frame_times_s = np.asarray(frame_times_s, dtype=float)
    flinch = np.zeros(frame_times_s.shape + (6,))
    for onset in onsets_s:
        if rng.uniform() >= probability:
            continue
        size = size_mm * float(np.clip(rng.normal(1.0, 0.3), 0.2, None))
        t = np.clip(frame_times_s - onset, 0.0, None) / 2.0
        bump = size * t * np.exp(1.0 - t)
        flinch[..., 2] += 0.5 * bump
        flinch[..., 3] += 0.5 * bump / HEAD_RADIUS_MM
    return flinch


def slice_acquisition_times(n_slices: int, tr_s: float, order: str) -> np.ndarray:
    """When each slice of a volume is acquired, from the start of the volume (s).

    Parameters
    ----------
    n_slices : int
        Slices (the grid's z axis, inferior to superior).
    tr_s : float
        Repetition time (s); the slices fill it evenly.
    order : str
        ``"interleaved"`` (even-numbered slices 0, 2, 4, ... then the odd ones,
        the usual order of single-band 2D EPI), ``"ascending"`` (0, 1, 2, ...)
        or ``"none"`` (every slice at time 0: no motion within a volume).

    Returns
    -------
    numpy.ndarray
        ``(n_slices,)`` times in [0, TR), as BIDS ``SliceTiming`` gives them.
    """
    if order not in SLICE_ORDERS:
        raise ValueError(f"slice order must be one of {SLICE_ORDERS}, got {order!r}")
    if order == "none":
        return np.zeros(n_slices)
    sequence = np.arange(n_slices)
    if order == "interleaved":
        sequence = np.concatenate([sequence[0::2], sequence[1::2]])
    times = np.empty(n_slices)
    times[sequence] = np.arange(n_slices) * (tr_s / n_slices)
    return times


def slice_motion(
    walk: np.ndarray,
    frame_times_s: np.ndarray,
    slice_times_s: np.ndarray,
    flinch: np.ndarray | None = None,
) -> np.ndarray:
    """The head's position when each slice of each volume was acquired.

    Parameters
    ----------
    walk : numpy.ndarray
        ``(n_scans, 6)`` random walk of :func:`motion_parameters`, the head's
        position at the start of each volume; in between it moves linearly
        (after the last volume it stays).
    frame_times_s : numpy.ndarray
        ``(n_scans,)`` start of each volume (s).
    slice_times_s : numpy.ndarray
        ``(n_slices,)`` from :func:`slice_acquisition_times`.
    flinch : numpy.ndarray, optional
        ``(n_scans, n_slices, 6)`` from :func:`flinch_parameters` at the
        slice times, added.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_slices, 6)``.
    """
    times = frame_times_s[:, None] + slice_times_s[None, :]
    motion = np.stack(
        [np.interp(times, frame_times_s, walk[:, k]) for k in range(walk.shape[1])], axis=-1
    )
    if flinch is not None:
        motion += flinch
    return motion


def volume_motion(motion: np.ndarray, slice_weights: np.ndarray) -> np.ndarray:
    """The one position per volume that realignment sees: the slices' weighted mean.

    Parameters
    ----------
    motion : numpy.ndarray
        ``(n_scans, n_slices, 6)`` from :func:`slice_motion`.
    slice_weights : numpy.ndarray
        ``(n_slices,)`` brain voxels per slice: realignment matches the whole
        brain, so a slice counts by how much of it there is.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, 6)``.
    """
    weights = np.asarray(slice_weights, dtype=float)
    return np.einsum("tsk,s->tk", motion, weights / weights.sum())


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
        NaN, written ``n/a``), the squares of both (``_power2``,
        ``_derivative1_power2``) and ``framewise_displacement`` (Power et al.
        2012), with fMRIPrep's names, so that ``load_confounds`` strategies
        such as ``motion="full"`` (24 parameters) apply.
    """
    table = pd.DataFrame(parameters, columns=list(MOTION_COLUMNS))
    derivatives = table.diff()
    for column in MOTION_COLUMNS:
        table[f"{column}_derivative1"] = derivatives[column]
        table[f"{column}_power2"] = table[column] ** 2
        table[f"{column}_derivative1_power2"] = derivatives[column] ** 2
    step = derivatives.abs()
    table["framewise_displacement"] = step[list(MOTION_COLUMNS[:3])].sum(axis=1) + (
        HEAD_RADIUS_MM * step[list(MOTION_COLUMNS[3:])].sum(axis=1)
    )
    table.loc[0, "framewise_displacement"] = np.nan
    return table


def _voxel_parameters(parameters: np.ndarray, voxel_slices: np.ndarray) -> np.ndarray:
    """``(n_scans, n_voxels, 6)`` view or gather: each voxel's motion, by its slice."""
    if parameters.ndim == 2:
        return parameters[:, None, :]
    return parameters[:, voxel_slices, :]


def image_derivatives(volume: np.ndarray, voxel_indices: np.ndarray, voxel_size_mm: float):
    """Gradient ``(n_voxels, 3)`` and Hessian ``(n_voxels, 3, 3)`` of an image at voxels (per mm).

    Parameters
    ----------
    volume : numpy.ndarray
        3D image, axes aligned with the world axes.
    voxel_indices : numpy.ndarray
        ``(n_voxels, 3)`` array indices.
    voxel_size_mm : float
        Voxel size (mm).

    Returns
    -------
    gradient, hessian : numpy.ndarray
        Central differences (float32).
    """
    volume = np.asarray(volume, dtype=np.float64)
    index = tuple(voxel_indices.T)
    first = np.gradient(volume, voxel_size_mm)
    gradient = np.stack([axis[index] for axis in first], axis=1)
    hessian = np.empty((voxel_indices.shape[0], 3, 3))
    for i, derivative in enumerate(first):
        second = np.gradient(derivative, voxel_size_mm)
        for j in range(3):
            hessian[:, i, j] = second[j][index]
    hessian = 0.5 * (hessian + hessian.transpose(0, 2, 1))
    return gradient.astype(np.float32), hessian.astype(np.float32)


def displaced_intensity(
    parameters: np.ndarray,
    gradient: np.ndarray,
    hessian: np.ndarray,
    coordinates_mm: np.ndarray,
    voxel_slices: np.ndarray | None = None,
) -> np.ndarray:
    """Intensity change when the head moves: the image read at displaced positions.

    A head that moves by ``d = t + w x r`` brings to the voxel at ``r`` what
    was at ``r - d``. Its intensity is the image there, to second order,
    ``-grad(B) . d + d' H d / 2`` (``H`` the Hessian of the PSF-blurred
    baseline): the curvature term is what six linear regressors cannot
    remove, and it is largest at edges and for larger movements. Against
    cubic-spline resampling of the default 3 mm baseline, the second-order
    expansion is off by 2% of the change at 0.5 mm and 11% at 1 mm (the first
    order by 16% and 25%).

    ``d = A(r) p`` is linear in the six parameters ``p``, so the change is
    ``a . p + p' Q p`` with ``a = -A' grad(B)`` and ``Q = A' H A / 2`` fixed
    per voxel: 27 weights per voxel (6 linear, 21 products of two
    parameters) against 27 features per scan and slice, one matrix product
    per slice instead of the expansion at every voxel and scan.

    Parameters
    ----------
    parameters : numpy.ndarray
        ``(n_scans, 6)`` translations (mm) and rotations (rad), or
        ``(n_scans, n_slices, 6)`` per slice (:func:`slice_motion`).
    gradient, hessian : numpy.ndarray
        From :func:`image_derivatives`.
    coordinates_mm : numpy.ndarray
        ``(n_voxels, 3)`` voxel positions relative to the centre of rotation.
    voxel_slices : numpy.ndarray, optional
        ``(n_voxels,)`` slice of each voxel, with per-slice ``parameters``.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_voxels)`` float32 change from the still image.
    """
    weights = _displacement_weights(gradient, hessian, coordinates_mm)
    features = _displacement_features(np.asarray(parameters, dtype=np.float64))
    return _per_slice_product(features, weights, voxel_slices)


#: The pairs ``(k, l)``, ``k <= l``, of the six motion parameters.
_PAIRS = [(i, j) for i in range(6) for j in range(i, 6)]


def _displacement_weights(
    gradient: np.ndarray, hessian: np.ndarray, coordinates_mm: np.ndarray
) -> np.ndarray:
    """``(n_voxels, 27)`` weights of :func:`_displacement_features` (float64)."""
    r = np.asarray(coordinates_mm, dtype=np.float64)
    n_voxels = r.shape[0]
    # d = A p with A = [I | -[r]x]: the rotation part of t + w x r
    design = np.zeros((n_voxels, 3, 6))
    design[:, [0, 1, 2], [0, 1, 2]] = 1.0
    design[:, 0, 4], design[:, 0, 5] = r[:, 2], -r[:, 1]
    design[:, 1, 3], design[:, 1, 5] = -r[:, 2], r[:, 0]
    design[:, 2, 3], design[:, 2, 4] = r[:, 1], -r[:, 0]
    linear = -np.einsum("nik,ni->nk", design, gradient.astype(np.float64))
    quadratic = 0.5 * np.einsum(
        "nik,nij,njl->nkl", design, hessian.astype(np.float64), design, optimize=True
    )
    pair_weights = np.stack(
        [quadratic[:, i, j] * (1.0 if i == j else 2.0) for i, j in _PAIRS], axis=1
    )
    return np.concatenate([linear, pair_weights], axis=1)


def _displacement_features(parameters: np.ndarray) -> np.ndarray:
    """The six parameters and their 21 products, last axis (``(..., 27)``)."""
    products = np.stack([parameters[..., i] * parameters[..., j] for i, j in _PAIRS], axis=-1)
    return np.concatenate([parameters, products], axis=-1)


def _per_slice_product(
    features: np.ndarray, weights: np.ndarray, voxel_slices: np.ndarray | None
) -> np.ndarray:
    """``(n_scans, n_voxels)`` float32: each voxel's weights against its slice's features.

    ``features`` is ``(n_scans, n_features)`` (one position per volume) or
    ``(n_scans, n_slices, n_features)`` with ``voxel_slices`` giving each
    voxel's slice.
    """
    if features.ndim == 2:
        return (features @ weights.T).astype(np.float32)
    out = np.empty((features.shape[0], weights.shape[0]), dtype=np.float32)
    for slice_index, voxels in _slice_groups(voxel_slices):
        out[:, voxels] = features[:, slice_index] @ weights[voxels].T
    return out


def _slice_groups(voxel_slices: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(slice, voxel indices)`` of every slice that holds voxels."""
    order = np.argsort(voxel_slices, kind="stable")
    slices, starts = np.unique(voxel_slices[order], return_index=True)
    return [(int(s), group) for s, group in zip(slices, np.split(order, starts[1:]), strict=True)]


def spin_history(
    parameters: np.ndarray,
    coordinates_mm: np.ndarray,
    baseline: np.ndarray,
    tr_s: float,
    psc_per_mm: float,
    voxel_slices: np.ndarray | None = None,
) -> np.ndarray:
    """Signal drop from through-plane movement, relaxing with T1.

    A voxel's through-plane (z) position changes by ``dz`` between volumes;
    spins moved into the slice have a different saturation history, which
    lowers the signal by ``psc_per_mm * |dz|`` percent, relaxing with T1
    (:data:`GREY_MATTER_T1_S`): ``h[t] = |dz[t]| + exp(-TR / T1) h[t - 1]``
    (at TR 2 s a fifth of it is left one volume later; the flip angle, which
    shortens it further, is ignored).
    The absolute value makes it invisible to linear motion regressors.

    Parameters
    ----------
    parameters : numpy.ndarray
        ``(n_scans, 6)`` true motion, or ``(n_scans, n_slices, 6)`` per slice.
    coordinates_mm : numpy.ndarray
        ``(n_voxels, 3)`` voxel positions relative to the centre of rotation.
    baseline : numpy.ndarray
        ``(n_voxels,)`` baseline intensity.
    tr_s : float
        Repetition time (s).
    psc_per_mm : float
        Signal drop (percent of baseline) per mm of through-plane movement.
    voxel_slices : numpy.ndarray, optional
        ``(n_voxels,)`` slice of each voxel, with per-slice ``parameters``.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_voxels)`` float32.
    """
    # z component of t + w x r, each voxel at its own slice's time: it is
    # linear in (z, pitch, roll), so its steps between volumes are the
    # parameters' steps against each voxel's (1, y, -x)
    through_plane = np.asarray(parameters, dtype=np.float64)[..., 2:5]
    steps = np.diff(through_plane, axis=0, prepend=through_plane[:1])
    r = np.asarray(coordinates_mm, dtype=np.float64)
    weights = np.stack([np.ones(r.shape[0]), r[:, 1], -r[:, 0]], axis=1)
    history = _per_slice_product(steps, weights, voxel_slices)
    np.abs(history, out=history)
    decaying_sum(history, np.exp(-tr_s / GREY_MATTER_T1_S))
    history *= (-(psc_per_mm / 100.0) * np.asarray(baseline)).astype(np.float32)
    return history
