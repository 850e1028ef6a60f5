"""Anatomy of the simulated brain: MNI152 grid, tissue maps and ROI spheres.

Everything comes from the MNI152 template and tissue probability maps that
ship inside nilearn, so nothing is downloaded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import nibabel as nib
import numpy as np
from nilearn import datasets

__all__ = [
    "Anatomy",
    "grey_matter_on",
    "load_anatomy",
    "mni152_brain_mask",
]


@functools.lru_cache(maxsize=4)
def mni152_brain_mask(resolution: int) -> nib.Nifti1Image:
    """nilearn's MNI152 brain mask at a resolution, loaded once per process.

    nilearn resamples its 1 mm template at every call (about 0.5 s at 3 mm),
    and a job may ask several times (the analysis mask, the grey matter).

    Parameters
    ----------
    resolution : int
        Voxel size in mm, as for ``nilearn.datasets.load_mni152_brain_mask``.

    Returns
    -------
    nibabel.Nifti1Image
        The mask; its data are read-only (the image is shared).
    """
    img = datasets.load_mni152_brain_mask(resolution=resolution)
    data = np.asarray(img.dataobj)
    data.flags.writeable = False
    return nib.Nifti1Image(data, img.affine, img.header)


@dataclass(frozen=True)
class Anatomy:
    """Tissue maps on the simulation grid.

    Attributes
    ----------
    affine : numpy.ndarray
        4 x 4 voxel-to-MNI affine.
    brain_mask : numpy.ndarray
        Boolean 3D brain mask.
    grey_prob, white_prob : numpy.ndarray
        Tissue probability maps (0-1), zero outside the brain.
    grey_mask : numpy.ndarray
        Boolean grey-matter mask (probability above the threshold, in the brain).
    """

    affine: np.ndarray
    brain_mask: np.ndarray
    grey_prob: np.ndarray
    white_prob: np.ndarray
    grey_mask: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape (x, y, z)."""
        return tuple(self.brain_mask.shape)  # type: ignore[return-value]

    @property
    def voxel_size_mm(self) -> float:
        """Isotropic voxel size in mm."""
        return float(abs(self.affine[0, 0]))

    @property
    def csf_prob(self) -> np.ndarray:
        """Remaining (CSF) probability in the brain."""
        rest = 1.0 - self.grey_prob - self.white_prob
        return np.clip(rest, 0.0, 1.0) * self.brain_mask

    def mask_img(self, mask: np.ndarray | None = None) -> nib.Nifti1Image:
        """Return a mask (default: the brain mask) as a NIfTI image on this grid."""
        data = self.brain_mask if mask is None else mask
        return nib.Nifti1Image(data.astype(np.uint8), self.affine)


@functools.lru_cache(maxsize=4)
def load_anatomy(voxel_size_mm: int = 3, grey_matter_threshold: float = 0.3) -> Anatomy:
    """Load nilearn's MNI152 brain mask and tissue maps at a voxel size.

    Parameters
    ----------
    voxel_size_mm : int
        Isotropic voxel size (2 to 8 mm).
    grey_matter_threshold : float
        Grey-matter probability above which a voxel counts as grey matter.

    Returns
    -------
    Anatomy
        The grid, brain mask and tissue maps (cached: treat as read-only).
    """
    if int(voxel_size_mm) != voxel_size_mm or not 1 <= voxel_size_mm <= 8:
        raise ValueError(f"voxel_size_mm must be a whole number from 1 to 8, got {voxel_size_mm}")
    if not 0 < grey_matter_threshold < 1:
        raise ValueError(f"grey_matter_threshold must lie in (0, 1), got {grey_matter_threshold}")
    resolution = int(voxel_size_mm)
    brain_img = datasets.load_mni152_brain_mask(resolution=resolution)
    brain = np.asarray(brain_img.dataobj) > 0
    grey = np.asarray(datasets.load_mni152_gm_template(resolution=resolution).dataobj, float)
    white = np.asarray(datasets.load_mni152_wm_template(resolution=resolution).dataobj, float)
    grey = np.clip(grey, 0, 1) * brain
    white = np.clip(white, 0, 1) * brain
    return Anatomy(
        affine=brain_img.affine.copy(),
        brain_mask=brain,
        grey_prob=grey,
        white_prob=white,
        grey_mask=brain & (grey > grey_matter_threshold),
    )


def grey_matter_on(reference_img: nib.Nifti1Image, threshold: float = 0.3) -> np.ndarray:
    """Grey-matter mask (nilearn's MNI152 template) on the grid of an image.

    Parameters
    ----------
    reference_img : nibabel.Nifti1Image
        Image (3D or 4D) in MNI space whose grid the mask should have.
    threshold : float
        Grey-matter probability threshold.

    Returns
    -------
    numpy.ndarray
        Boolean 3D mask, also restricted to the MNI brain mask.
    """
    from nilearn import image

    shape = reference_img.shape[:3]
    voxel = float(np.mean(reference_img.header.get_zooms()[:3]))
    resolution = max(1, round(voxel))
    grey = datasets.load_mni152_gm_template(resolution=resolution)
    brain = mni152_brain_mask(resolution)
    if grey.shape != shape or not np.allclose(grey.affine, reference_img.affine):
        target = nib.Nifti1Image(np.zeros(shape, np.uint8), reference_img.affine)
        grey = image.resample_to_img(grey, target, force_resample=True, copy_header=True)
        brain = image.resample_to_img(
            brain, target, interpolation="nearest", force_resample=True, copy_header=True
        )
    return (np.asarray(grey.dataobj) > threshold) & (np.asarray(brain.dataobj) > 0)
