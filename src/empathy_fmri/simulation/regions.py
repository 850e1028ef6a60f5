"""The simulated regions: irregular, grey-matter-bound shapes around their centres.

A region is not a sphere at a literature coordinate: its profile is a
Gaussian fall-off from the centre times ``exp(irregularity * g)``, with ``g``
a smooth random field of unit SD, and the region is where that profile
exceeds :data:`PROFILE_FLOOR` of its peak. Its peak therefore lies a few
millimetres from its centre and its outline follows the random field and the
grey matter. The field is drawn once from ``regions.shape_seed``, so every
subject and every replicate study shares the same regions: they are the
population's anatomy of the effect, not a subject's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

from empathy_fmri.anatomy.spheres import sphere_masks, voxel_coordinates_mm

__all__ = [
    "FALL_OFF_PER_RADIUS",
    "PROFILE_FLOOR",
    "region_profiles",
    "shape_field",
]

#: A region holds the voxels whose profile reaches this share of its peak.
PROFILE_FLOOR = 0.2
#: The Gaussian fall-off has sigma = radius_mm / FALL_OFF_PER_RADIUS.
FALL_OFF_PER_RADIUS = 2.0


def shape_field(
    shape: Sequence[int], voxel_size_mm: float, fwhm_mm: float, seed: int
) -> np.ndarray:
    """Smooth Gaussian random field of unit SD on a grid.

    Parameters
    ----------
    shape : sequence of int
        Grid shape.
    voxel_size_mm : float
        Isotropic voxel size.
    fwhm_mm : float
        Smoothness of the field.
    seed : int
        Seed (``regions.shape_seed``).

    Returns
    -------
    numpy.ndarray
        Float array of ``shape`` with mean 0 and SD 1 over the grid.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5EED,)))
    white = rng.standard_normal(tuple(shape))
    sigma_voxels = fwhm_mm / np.sqrt(8 * np.log(2)) / voxel_size_mm
    field = ndimage.gaussian_filter(white, sigma_voxels, mode="wrap")
    return (field - field.mean()) / field.std()


def region_profiles(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    irregularity: float,
    field: np.ndarray | None,
    affine: np.ndarray,
    grey_mask: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Masks and spatial profiles of the simulated regions.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        Region centres (``regions.centres``).
    radius_mm : float
        Grey-matter voxels within this distance of a centre may belong to its
        region; a voxel within reach of two centres goes to the nearer one.
    irregularity : float
        SD of the random log-amplitude; 0 gives a Gaussian ball cut at
        :data:`PROFILE_FLOOR` of its peak.
    field : numpy.ndarray or None
        From :func:`shape_field` (unused when ``irregularity`` is 0).
    affine : numpy.ndarray
        Grid affine.
    grey_mask : numpy.ndarray
        Boolean 3D grey-matter mask.

    Returns
    -------
    masks : dict of str to numpy.ndarray
        Boolean 3D mask per region (disjoint).
    profiles : dict of str to numpy.ndarray
        Float 3D profile per region, zero outside its mask and of mean one
        over it: an amplitude times the profile has the amplitude as its
        region average.
    """
    reach = sphere_masks(centres_mm, radius_mm, affine, grey_mask)
    coords = voxel_coordinates_mm(affine, grey_mask.shape)
    sigma = radius_mm / FALL_OFF_PER_RADIUS
    masks, profiles = {}, {}
    for name, candidates in reach.items():
        if not candidates.any():
            raise ValueError(
                f"region '{name}' at {list(centres_mm[name])} holds no grey-matter voxel "
                f"within 'regions.radius_mm' = {radius_mm}"
            )
        squared = np.sum((coords - np.asarray(centres_mm[name], float)) ** 2, axis=-1)
        log_profile = -squared / (2 * sigma**2)
        if irregularity and field is not None:
            log_profile = log_profile + irregularity * field
        profile = np.where(candidates, np.exp(log_profile - log_profile[candidates].max()), 0.0)
        mask = candidates & (profile >= PROFILE_FLOOR)
        profile = np.where(mask, profile, 0.0)
        masks[name] = mask
        profiles[name] = profile / profile[mask].mean()
    return masks, profiles
