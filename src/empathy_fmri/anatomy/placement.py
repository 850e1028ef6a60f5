"""Checks that ROI centres lie in the brain and hold enough grey matter.

On the simulation grid (:func:`roi_placement_problems`, before any job) and,
for a dataset from elsewhere, on the data's own grid inside its brain mask
(:func:`roi_voxel_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import numpy as np

from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import grey_matter_on, load_anatomy

__all__ = [
    "roi_placement_problems",
    "roi_voxel_counts",
]


def roi_placement_problems(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    voxel_size_mm: int,
    grey_matter_threshold: float,
    min_voxels: int = 1,
    key: str = "analysis",
) -> list[str]:
    """Say which ROI centres lie outside the brain or hold too little grey matter.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        ROI centres (``analysis.rois`` or ``regions.centres``).
    radius_mm : float
        Sphere radius.
    voxel_size_mm : int
        Grid voxel size.
    grey_matter_threshold : float
        Grey-matter probability threshold.
    min_voxels : int
        Fewest grey-matter voxels an ROI may hold.
    key : str
        Config section of the centres, for the messages: ``analysis`` (the
        a-priori ROIs: ``rois`` and ``roi_radius_mm``) or ``regions`` (the
        simulated regions: ``centres`` and ``radius_mm``).

    Returns
    -------
    list of str
        One message per problem, naming the config key; empty when all is well.
    """
    anatomy = load_anatomy(voxel_size_mm, grey_matter_threshold)
    masks = sphere_masks(centres_mm, radius_mm, anatomy.affine, anatomy.grey_mask)
    inverse = np.linalg.inv(anatomy.affine)
    centres_key, radius_key = (
        ("analysis.rois", "analysis.roi_radius_mm")
        if key == "analysis"
        else ("regions.centres", "regions.radius_mm")
    )
    problems = []
    for name, centre in centres_mm.items():
        ijk = np.round(inverse @ [*centre, 1.0])[:3].astype(int)
        inside = all(0 <= i < n for i, n in zip(ijk, anatomy.shape, strict=True))
        if not inside or not anatomy.brain_mask[tuple(ijk)]:
            problems.append(
                f"centre '{centres_key}.{name}' {list(centre)} lies outside the MNI152 brain mask"
            )
        elif masks[name].sum() < min_voxels:
            problems.append(
                f"'{centres_key}.{name}' {list(centre)} holds {int(masks[name].sum())} "
                f"grey-matter voxels at '{radius_key}' = {radius_mm} (at least "
                f"{min_voxels} needed); move it into grey matter or widen the radius"
            )
    return problems


def roi_voxel_counts(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    mask_img: nib.Nifti1Image,
    grey_matter_threshold: float,
    grey: np.ndarray | None = None,
) -> dict[str, int]:
    """Grey-matter voxels of each a-priori ROI inside a brain mask, on the mask's grid.

    The ROIs are built as the analysis builds its independent ROIs
    (disjoint spheres in nilearn's MNI152 grey matter on the grid, see
    :func:`empathy_fmri.pipeline.roi.masks_from_centres`) and, in addition,
    cut to the voxels the mask holds: those are the voxels with data.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        ROI centres (``analysis.rois``).
    radius_mm : float
        Sphere radius (``analysis.roi_radius_mm``).
    mask_img : nibabel.Nifti1Image
        A 3D brain mask in MNI space (non-zero inside); its grid is the grid
        of the counts.
    grey_matter_threshold : float
        Grey-matter probability threshold.
    grey : numpy.ndarray, optional
        :func:`~empathy_fmri.anatomy.template.grey_matter_on` of the mask's
        grid, if already computed (it resamples the template).

    Returns
    -------
    dict of str to int
        Voxels per ROI, in the order of ``centres_mm``.
    """
    inside = np.asarray(mask_img.dataobj) > 0
    if grey is None:
        grey = grey_matter_on(mask_img, grey_matter_threshold)
    masks = sphere_masks(centres_mm, radius_mm, mask_img.affine, grey & inside)
    return {name: int(mask.sum()) for name, mask in masks.items()}
