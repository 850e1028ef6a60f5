"""First-level GLM of each ROI's mean time series, from the unsmoothed BOLD.

Averaging smoothed voxel effects inside an ROI mixes in signal and noise
from outside it and shrinks the estimate; averaging the unsmoothed time
series first and fitting one GLM to that mean keeps what the data know about
the ROI. The fit is :func:`~empathy_fmri.analysis.first_level.fit_first_level`
itself, on an image whose "voxels" are the ROI means, so the HRF, drift,
noise model, confounds and psc scaling are those of the voxelwise first level.

The same fit on each half of a subject's data (:func:`split_halves`: the
first run against the second, odd against even runs, or, with one run, odd
against even blocks of each condition) gives two estimates of the same
amplitude, whose agreement across subjects is the split-half reliability
(:mod:`empathy_fmri.analysis.reliability`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.volumeutils import apply_read_scaling
from nilearn import image

from empathy_fmri.analysis.first_level import fit_first_level
from empathy_fmri.task.conditions import CONDITIONS

__all__ = [
    "HALF_FIT_COLUMNS",
    "NO_SPLIT",
    "OTHER_HALF_SUFFIX",
    "SPLITS",
    "Half",
    "fit_roi_glm",
    "roi_mean_series",
    "split_halves",
]

#: How a subject's data can be halved: its two runs; its odd and even runs
#: (more than two); the odd and even blocks of each condition (one run).
SPLITS = ("run-1_vs_run-2", "odd_vs_even_runs", "odd_vs_even_blocks")
#: ``split`` of a subject whose data cannot be halved (one run with fewer than
#: two blocks of a condition).
NO_SPLIT = "none"
#: Appended to the trial type of the other half's blocks, which a half's model
#: keeps as nuisance regressors of their own.
OTHER_HALF_SUFFIX = "__other_half"
#: Columns :func:`fit_roi_glm` adds with ``halves=True``.
HALF_FIT_COLUMNS = ("split", "effect_half1", "variance_half1", "effect_half2", "variance_half2")


@dataclass(frozen=True)
class Half:
    """One half of a subject's data, as the first level takes it.

    Attributes
    ----------
    runs : tuple of int
        Indices (from 0) of the runs it fits.
    events : tuple of pandas.DataFrame
        Those runs' events; with a split within a run, the other half's
        blocks renamed ``<condition>__other_half`` (:data:`OTHER_HALF_SUFFIX`).
    """

    runs: tuple[int, ...]
    events: tuple[pd.DataFrame, ...]


def split_halves(events: Sequence[pd.DataFrame]) -> tuple[str, tuple[Half, Half] | None]:
    """Split a subject's data into two halves that measure the same amplitude.

    - Two runs: run 1 against run 2 (``run-1_vs_run-2``); the runs in the
      order given, whatever their BIDS labels.
    - More runs: odd (1, 3, ...) against even runs (``odd_vs_even_runs``).
    - One run: odd (1st, 3rd, ...) against even blocks of each condition, by
      onset (``odd_vs_even_blocks``). Each half's model keeps the other
      half's blocks as regressors of their own (renamed
      ``<condition>__other_half``), so its needle-minus-swab contrast uses
      only its own blocks, with the HRF, drift, noise model and confounds of
      the whole run: the two half models have the same design columns.

    With an odd number of runs or blocks the first half has one more.

    Parameters
    ----------
    events : sequence of pandas.DataFrame
        Each run's events, ``trial_type`` mapped to :data:`CONDITIONS` (as
        :func:`empathy_fmri.io.run_inputs.read_subject_runs` returns them).

    Returns
    -------
    split : str
        One of :data:`SPLITS`, or :data:`NO_SPLIT`.
    halves : tuple of Half, or None
        The two halves; None with :data:`NO_SPLIT` (one run with fewer than
        two blocks of a condition).

    Raises
    ------
    ValueError
        If ``events`` is empty, or a run already has a trial type named like
        a renamed block.
    """
    if len(events) == 0:
        raise ValueError("events is empty: no run to split")
    if len(events) >= 2:
        odd, even = tuple(range(0, len(events), 2)), tuple(range(1, len(events), 2))
        split = SPLITS[0] if len(events) == 2 else SPLITS[1]
        return split, (
            Half(odd, tuple(events[k] for k in odd)),
            Half(even, tuple(events[k] for k in even)),
        )
    table = events[0]
    renamed = [f"{condition}{OTHER_HALF_SUFFIX}" for condition in CONDITIONS]
    clash = sorted(set(renamed) & set(table["trial_type"].astype(str)))
    if clash:
        raise ValueError(
            f"events: trial type(s) {clash} are reserved for the other half's blocks of a "
            "split within a run"
        )
    in_half = pd.Series(0, index=table.index)
    for condition in CONDITIONS:
        rows = table.index[table["trial_type"] == condition]
        if len(rows) < 2:
            return NO_SPLIT, None
        order = table.loc[rows, "onset"].sort_values(kind="stable").index
        in_half[order] = np.arange(len(order)) % 2 + 1
    halves = []
    for half in (1, 2):
        relabelled = table.copy()
        other = (in_half != half) & (in_half > 0)
        relabelled.loc[other, "trial_type"] = (
            relabelled.loc[other, "trial_type"].astype(str) + OTHER_HALF_SUFFIX
        )
        halves.append(Half((0,), (relabelled,)))
    return SPLITS[2], (halves[0], halves[1])


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
    halves: bool = False,
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
    halves : bool
        Also fit the same model to each half of the data (:func:`split_halves`).

    Returns
    -------
    pandas.DataFrame
        One row per mask: ``roi``, ``effect`` (psc at the block peak, the
        voxelwise convention) and ``variance`` (its sampling variance, psc^2);
        with ``halves``, :data:`HALF_FIT_COLUMNS`: ``split`` and each half's
        ``effect_half<k>`` and ``variance_half<k>`` (NaN with :data:`NO_SPLIT`).
    """
    names = list(masks)
    runs = []
    for img in bold_imgs:
        series = roi_mean_series(img, masks)
        volume = series.T.reshape(len(names), 1, 1, -1).astype(np.float32)
        runs.append(nib.Nifti1Image(volume, np.eye(4)))
    mask_img = nib.Nifti1Image(np.ones((len(names), 1, 1), np.uint8), np.eye(4))

    def fit(run_indices: Sequence[int], run_events: Sequence[pd.DataFrame]) -> list[np.ndarray]:
        result = fit_first_level(
            [runs[k] for k in run_indices],
            run_events,
            None if confounds is None else [confounds[k] for k in run_indices],
            tr_s,
            hrf_model=hrf_model,
            drift_model=drift_model,
            high_pass_hz=high_pass_hz,
            noise_model=noise_model,
            smoothing_fwhm_mm=0.0,
            mask_img=mask_img,
            sample_masks=None if sample_masks is None else [sample_masks[k] for k in run_indices],
        )
        maps = result.maps[contrast]
        return [
            np.asarray(maps[key].dataobj, dtype=float).ravel() for key in ("effect", "variance")
        ]

    effect, variance = fit(range(len(runs)), events)
    table = pd.DataFrame({"roi": names, "effect": effect, "variance": variance})
    if halves:
        split, parts = split_halves(events)
        table["split"] = split
        for k in (1, 2):
            if parts is None:
                half_effect = half_variance = np.full(len(names), np.nan)
            else:
                half = parts[k - 1]
                half_effect, half_variance = fit(half.runs, half.events)
            table[f"effect_half{k}"] = half_effect
            table[f"variance_half{k}"] = half_variance
    return table
