"""Spheres around MNI coordinates on a voxel grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def voxel_coordinates_mm(affine: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Return the MNI coordinates (mm) of every voxel of a grid.

    Parameters
    ----------
    affine : numpy.ndarray
        4 x 4 voxel-to-world affine.
    shape : sequence of int
        Grid shape (x, y, z).

    Returns
    -------
    numpy.ndarray
        Array of shape ``(*shape, 3)``.
    """
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def sphere_masks(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    affine: np.ndarray,
    within: np.ndarray,
) -> dict[str, np.ndarray]:
    """Build disjoint spherical masks around MNI centres.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        Sphere centres in MNI mm.
    radius_mm : float
        Sphere radius in mm.
    affine : numpy.ndarray
        Voxel-to-MNI affine of the grid.
    within : numpy.ndarray
        Boolean 3D mask that every sphere is intersected with (e.g. grey matter).

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean 3D mask per name. A voxel inside two spheres belongs to the
        nearer centre, so masks never overlap.
    """
    if radius_mm <= 0:
        raise ValueError(f"radius_mm must be positive, got {radius_mm}")
    names = list(centres_mm)
    if not names:
        return {}
    coords = voxel_coordinates_mm(affine, within.shape)
    centres = np.asarray([centres_mm[name] for name in names], dtype=float)
    distances = np.linalg.norm(coords[..., None, :] - centres, axis=-1)
    nearest = np.argmin(distances, axis=-1)
    inside = np.min(distances, axis=-1) <= radius_mm
    return {name: within & inside & (nearest == k) for k, name in enumerate(names)}
