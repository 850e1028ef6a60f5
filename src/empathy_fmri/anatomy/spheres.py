"""Spheres around MNI coordinates on a voxel grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

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

    Raises
    ------
    ValueError
        If ``radius_mm`` is not positive or a centre is not finite.
    """
    if radius_mm <= 0:
        raise ValueError(f"radius_mm must be positive, got {radius_mm}")
    names = list(centres_mm)
    if not names:
        return {}
    affine = np.ascontiguousarray(affine, dtype=float)
    coords = _grid_coordinates_mm(affine.tobytes(), tuple(within.shape))
    centres = np.asarray([centres_mm[name] for name in names], dtype=float)
    if not np.isfinite(centres).all():
        raise ValueError(f"centres_mm must be finite MNI coordinates, got {dict(centres_mm)}")
    masks = {}
    for k, name in enumerate(names):
        # Only the voxels of the box around sphere k can be in it; there the
        # distances to every centre are those of the whole grid (elementwise), so
        # the mask is exactly that of the whole-grid computation.
        box = _box(centres[k], radius_mm, affine, within.shape)
        distances = np.linalg.norm(coords[box][..., None, :] - centres, axis=-1)
        mask = np.zeros(within.shape, bool)
        mask[box] = (
            within[box] & (np.argmin(distances, axis=-1) == k) & (distances[..., k] <= radius_mm)
        )
        masks[name] = mask
    return masks


@lru_cache(maxsize=4)
def _grid_coordinates_mm(affine_bytes: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`voxel_coordinates_mm` of a grid, computed once (read-only)."""
    coords = voxel_coordinates_mm(np.frombuffer(affine_bytes).reshape(4, 4), shape)
    coords.flags.writeable = False
    return coords


def _box(
    centre_mm: np.ndarray, radius_mm: float, affine: np.ndarray, shape: Sequence[int]
) -> tuple[slice, ...]:
    """Index box of the grid that holds every voxel within ``radius_mm`` of a centre.

    The corners of the cube around the sphere, taken to voxel indices, bound
    the sphere for any affine; one voxel of margin covers rounding.
    """
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    inverse = np.linalg.inv(affine)
    ijk = (centre_mm + radius_mm * corners) @ inverse[:3, :3].T + inverse[:3, 3]
    low = np.clip(np.floor(ijk.min(axis=0)).astype(int) - 1, 0, shape)
    high = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 2, 0, shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))
