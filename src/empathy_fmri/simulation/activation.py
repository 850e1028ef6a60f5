"""Where the task signal is: spatial profiles and activation maps of the simulated regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from empathy_fmri.anatomy.spheres import voxel_coordinates_mm


def roi_profile(
    mask: np.ndarray, centre_mm: Sequence[float], sigma_mm: float, affine: np.ndarray
) -> np.ndarray:
    """Gaussian fall-off from an ROI centre, scaled to an ROI mean of one.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean 3D ROI mask.
    centre_mm : (x, y, z)
        Centre in MNI mm.
    sigma_mm : float
        Standard deviation of the fall-off in mm.
    affine : numpy.ndarray
        Voxel-to-MNI affine.

    Returns
    -------
    numpy.ndarray
        Float 3D map, zero outside ``mask``, with mean 1 over ``mask``; an
        amplitude times this map has the amplitude as its ROI average.
    """
    if not mask.any():
        raise ValueError("the ROI mask is empty")
    coords = voxel_coordinates_mm(affine, mask.shape)
    squared = np.sum((coords - np.asarray(centre_mm, float)) ** 2, axis=-1)
    profile = np.exp(-squared / (2.0 * sigma_mm**2)) * mask
    return profile / profile[mask].mean()


def activation_psc(
    roi_profiles: Mapping[str, np.ndarray],
    needle_minus_swab_psc: Mapping[str, float],
    swab_psc: float,
    visual_profile: np.ndarray | None,
    visual_psc: float,
) -> dict[str, np.ndarray]:
    """Per-voxel response to each video in percent signal change.

    Parameters
    ----------
    roi_profiles : mapping of str to numpy.ndarray
        Spatial profile of each ROI (mean one over the ROI), as voxel vectors.
    needle_minus_swab_psc : mapping of str to float
        The subject's needle-minus-swab amplitude per ROI (ROI average, psc).
    swab_psc : float
        ROI response to the swab video (psc, ROI average).
    visual_profile : numpy.ndarray or None
        Profile of the visual regions (responding to both videos equally).
    visual_psc : float
        Visual response to either video (psc).

    Returns
    -------
    dict
        ``{"needle": map, "swab": map}``, voxel vectors in psc.
    """
    shape = next(iter(roi_profiles.values())).shape
    needle = np.zeros(shape)
    swab = np.zeros(shape)
    for name, profile in roi_profiles.items():
        swab += swab_psc * profile
        needle += (swab_psc + needle_minus_swab_psc[name]) * profile
    if visual_profile is not None:
        needle += visual_psc * visual_profile
        swab += visual_psc * visual_profile
    return {"needle": needle, "swab": swab}
