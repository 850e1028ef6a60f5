"""ROI extraction: a-priori spheres, spheres on the group peak, ROI means.

The ROIs selected on a correlation with behaviour are in
:mod:`empathy_fmri.analysis.roi_selection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import masking

from empathy_fmri.anatomy.spheres import sphere_masks, voxel_coordinates_mm

__all__ = [
    "group_peak_centres",
    "extract_roi_means",
    "roi_masks",
]


def group_peak_centres(
    group_z: nib.Nifti1Image,
    centres_mm: Mapping[str, Sequence[float]],
    search_radius_mm: float,
    within: np.ndarray,
) -> dict[str, list[float]]:
    """Peak of the group z map near each a-priori centre.

    The same subjects' data choose the ROI whose effect is then measured:
    circular ("double dipping", Kriegeskorte et al. 2009) for the group mean
    effect, which it inflates. For a correlation across subjects it is nearly
    harmless, since the group mean is nearly independent of how subjects
    differ around it (on a null, the peak voxel's r with a score is
    distributed like an a-priori voxel's).

    Parameters
    ----------
    group_z : Niimg-like
        Group z map.
    centres_mm : mapping of str to (x, y, z)
        A-priori centres.
    search_radius_mm : float
        Peaks are searched within this distance of each centre.
    within : numpy.ndarray
        Boolean 3D mask of admissible voxels (e.g. grey matter).

    Returns
    -------
    dict of str to [x, y, z]
        MNI coordinate of the highest z in each search sphere (the a-priori
        centre when the sphere holds no admissible voxel).
    """
    z = np.asarray(group_z.dataobj, dtype=float)
    coords = voxel_coordinates_mm(group_z.affine, z.shape)
    peaks = {}
    for name, centre in centres_mm.items():
        near = within & (
            np.linalg.norm(coords - np.asarray(centre, float), axis=-1) <= search_radius_mm
        )
        if not near.any():
            peaks[name] = [float(c) for c in centre]
            continue
        candidates = np.where(near, z, -np.inf)
        index = np.unravel_index(np.argmax(candidates), z.shape)
        peaks[name] = [float(c) for c in coords[index]]
    return peaks


def extract_roi_means(
    effect_imgs: Mapping[str, str | Path | nib.Nifti1Image],
    masks: Mapping[str, np.ndarray],
    affine: np.ndarray,
) -> pd.DataFrame:
    """Mean effect of every subject in every ROI.

    Parameters
    ----------
    effect_imgs : mapping of participant_id to Niimg-like
        One effect map per subject.
    masks : mapping of ROI name to numpy.ndarray
        Boolean 3D masks on the maps' grid.
    affine : numpy.ndarray
        Affine of the masks.

    Returns
    -------
    pandas.DataFrame
        Long format: ``participant_id``, ``roi``, ``needle_minus_swab`` (mean
        over the ROI's voxels), ``n_voxels``.
    """
    subjects = list(effect_imgs)
    rows = []
    for name, mask in masks.items():
        n_voxels = int(mask.sum())
        if n_voxels == 0:
            raise ValueError(f"ROI '{name}' is empty on the analysis grid")
        mask_img = nib.Nifti1Image(mask.astype(np.uint8), affine)
        values = masking.apply_mask([effect_imgs[s] for s in subjects], mask_img)
        means = values.mean(axis=1)
        rows += [
            {"participant_id": s, "roi": name, "needle_minus_swab": float(m), "n_voxels": n_voxels}
            for s, m in zip(subjects, means, strict=True)
        ]
    return pd.DataFrame(rows)


def roi_masks(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    affine: np.ndarray,
    within: np.ndarray,
    disjoint: bool = True,
) -> dict[str, np.ndarray]:
    """Spheres around centres, intersected with a mask.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        Sphere centres.
    radius_mm : float
        Radius.
    affine : numpy.ndarray
        Grid affine.
    within : numpy.ndarray
        Boolean 3D mask to intersect with.
    disjoint : bool
        Give a voxel in two spheres to the nearer centre (a-priori ROIs); with
        False each sphere is complete (data-selected ROIs, which may overlap).

    Returns
    -------
    dict of str to numpy.ndarray
    """
    if disjoint:
        return sphere_masks(centres_mm, radius_mm, affine, within)
    return {
        name: sphere_masks({name: centre}, radius_mm, affine, within)[name]
        for name, centre in centres_mm.items()
    }
