"""First-level GLM of each ROI's mean time series, from the unsmoothed BOLD.

Averaging smoothed voxel effects inside an ROI mixes in signal and noise
from outside it and shrinks the estimate; averaging the unsmoothed time
series first and fitting one GLM to that mean keeps what the data know about
the ROI. The fit is :func:`~empathy_fmri.analysis.first_level.fit_first_level`
itself, on an image whose "voxels" are the ROI means, so the HRF, drift,
noise model, confounds and psc scaling are those of the voxelwise first level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.volumeutils import apply_read_scaling
from nilearn import image

from empathy_fmri.analysis.first_level import fit_first_level

__all__ = [
    "fit_roi_glm",
    "roi_mean_series",
]


def roi_mean_series(bold_img: str | nib.Nifti1Image, masks: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean time series of each ROI of one run.

    Parameters
    ----------
    bold_img : Niimg-like or path
        One 4D BOLD run (not smoothed).
    masks : mapping of str to numpy.ndarray
        Boolean 3D masks on the run's grid.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_rois)`` float64 means, ROIs in the order of ``masks``.

    Raises
    ------
    ValueError
        If a mask is empty or its shape is not the run's grid.
    """
    img = image.load_img(bold_img)
    grid = tuple(img.shape[:3])
    for name, mask in masks.items():
        if mask.shape != grid:
            raise ValueError(f"masks: ROI '{name}' has shape {mask.shape}, the BOLD grid is {grid}")
        if not mask.any():
            raise ValueError(f"masks: ROI '{name}' is empty on the BOLD grid")
    covered = np.any(np.stack(list(masks.values())), axis=0) if masks else np.zeros(grid, bool)
    voxels = _float32_voxels(img, covered)
    series = np.empty((img.shape[3], len(masks)))
    for k, mask in enumerate(masks.values()):
        # the voxels of mask in the order data[mask] takes them: the same means
        series[:, k] = voxels[mask[covered]].mean(axis=0, dtype=np.float64)
    return series


def _float32_voxels(img: nib.Nifti1Image, keep: np.ndarray) -> np.ndarray:
    """``(n_voxels, n_scans)`` float32 data of the voxels ``keep`` of a 4D image.

    The values are those of ``load_img(img, dtype="float32")`` (nibabel's
    scaling, ``apply_read_scaling``, then a float32 cast, elementwise), but
    only the kept voxels of the stored integers are scaled and cast: the
    whole run in float64 and float32 took most of an ROI-GLM job.
    """
    proxy = img.dataobj
    if not nib.is_proxy(proxy):
        return np.asarray(proxy)[keep].astype(np.float32)
    stored = np.asanyarray(proxy.get_unscaled())[keep]
    # as nibabel's ArrayProxy._get_scaled with no dtype asked for
    scaled = apply_read_scaling(stored, np.asanyarray(proxy.slope), np.asanyarray(proxy.inter))
    return scaled.astype(np.float32)


def fit_roi_glm(
    bold_imgs: Sequence[str | nib.Nifti1Image],
    events: Sequence[pd.DataFrame],
    confounds: Sequence[pd.DataFrame] | None,
    tr_s: float,
    masks: Mapping[str, np.ndarray],
    *,
    hrf_model: str = "glover",
    drift_model: str = "cosine",
    high_pass_hz: float = 0.008,
    noise_model: str = "ar1",
    contrast: str = "needleMinusSwab",
    sample_masks: Sequence[np.ndarray | None] | None = None,
) -> pd.DataFrame:
    """Fit the first-level model to each ROI's mean time series over all runs.

    Parameters
    ----------
    bold_imgs : sequence of Niimg-like or path
        One unsmoothed 4D BOLD image per run.
    events : sequence of pandas.DataFrame
        Each run's events.
    confounds : sequence of pandas.DataFrame or None
        Each run's confound regressors, as the voxelwise model uses them.
    tr_s : float
        Repetition time (s).
    masks : mapping of str to numpy.ndarray
        Boolean 3D ROI masks on the BOLD grid (keys are the row labels).
    hrf_model, drift_model, high_pass_hz, noise_model : str, str, float, str
        As for the voxelwise first level.
    contrast : str
        Contrast label of :data:`~empathy_fmri.task.conditions.CONTRASTS`.
    sample_masks : sequence of numpy.ndarray or None, optional
        Per run, the volumes to fit (None: all), as for the voxelwise model.

    Returns
    -------
    pandas.DataFrame
        One row per mask: ``roi``, ``effect`` (psc at the block peak, the
        voxelwise convention) and ``variance`` (its sampling variance, psc^2).
    """
    names = list(masks)
    runs = []
    for img in bold_imgs:
        series = roi_mean_series(img, masks)
        volume = series.T.reshape(len(names), 1, 1, -1).astype(np.float32)
        runs.append(nib.Nifti1Image(volume, np.eye(4)))
    mask_img = nib.Nifti1Image(np.ones((len(names), 1, 1), np.uint8), np.eye(4))
    fit = fit_first_level(
        runs,
        events,
        confounds,
        tr_s,
        hrf_model=hrf_model,
        drift_model=drift_model,
        high_pass_hz=high_pass_hz,
        noise_model=noise_model,
        smoothing_fwhm_mm=0.0,
        mask_img=mask_img,
        sample_masks=sample_masks,
    )
    maps = fit.maps[contrast]
    effect = np.asarray(maps["effect"].dataobj, dtype=float).ravel()
    variance = np.asarray(maps["variance"].dataobj, dtype=float).ravel()
    return pd.DataFrame({"roi": names, "effect": effect, "variance": variance})
