"""First-level GLM of one subject, as nilearn's ``FirstLevelModel`` fits it, in less time.

The steps are those of ``FirstLevelModel(signal_scaling=0, minimize_memory=True)``
with a fitted float32 ``NiftiMasker``, and nilearn's code for each: the run is
smoothed with nilearn's ``smooth_array`` (on the mask's bounding box plus the
kernel's reach, which gives the same values inside the mask as smoothing the
whole volume), masked and scaled with ``mean_scaling``; the design matrix is
``make_first_level_design_matrix`` with the model's defaults; the fit is
:func:`~empathy_fmri.analysis.glm_fit.run_glm_fast` (``run_glm`` with the AR(1)
coefficients estimated at once); contrasts are nilearn's fixed-effect contrasts
over runs. ``tests/test_first_level_fast.py`` checks the maps against
``FirstLevelModel``'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.arrayproxy import ArrayProxy
from nilearn import image
from nilearn.glm.contrasts import compute_fixed_effect_contrast, expression_to_contrast_vector
from nilearn.glm.first_level import make_first_level_design_matrix, mean_scaling
from nilearn.image.image import smooth_array
from nilearn.maskers import NiftiMasker

from empathy_fmri.analysis.glm_fit import run_glm_fast
from empathy_fmri.anatomy.template import mni152_brain_mask
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.task.conditions import CONDITIONS, CONTRASTS
from empathy_fmri.task.hrf import block_response_peak

__all__ = [
    "TISSUE_STRATEGIES",
    "FirstLevelResult",
    "analysis_mask",
    "confound_regressors",
    "fit_first_level",
    "glm_options",
    "run_design_matrix",
    "smooth_and_mask",
]

logger = logging.getLogger(__name__)


@dataclass
class FirstLevelResult:
    """Maps and design of one subject's first-level model.

    Attributes
    ----------
    maps : dict
        ``maps[contrast][statistic]`` NIfTI images, for the contrasts of
        :data:`CONTRASTS` and the statistics ``effect`` (percent signal change),
        ``variance`` and ``z``.
    design_matrices : list of pandas.DataFrame
        One per run.
    timings : dict
        Seconds spent per stage (``mask``, ``load``, ``smooth_mask``,
        ``design``, ``glm``, ``contrasts``), summed over runs.
    """

    maps: dict[str, dict[str, nib.Nifti1Image]]
    design_matrices: list[pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)


def analysis_mask(reference_img: nib.Nifti1Image | str | Path) -> nib.Nifti1Image:
    """nilearn's MNI152 brain mask resampled to a BOLD grid.

    Parameters
    ----------
    reference_img : Niimg-like
        A BOLD image (3D or 4D) whose grid the mask should have.

    Returns
    -------
    nibabel.Nifti1Image
        Binary mask on the reference grid.
    """
    reference = image.load_img(reference_img)
    if reference.ndim == 4:
        reference = image.index_img(reference, 0)
    voxel = float(np.mean(reference.header.get_zooms()[:3]))
    mask = mni152_brain_mask(max(1, round(voxel)))
    return image.resample_to_img(
        mask, reference, interpolation="nearest", force_resample=True, copy_header=True
    )


def glm_options(analysis: AnalysisConfig) -> dict[str, Any]:
    """Keyword arguments of :func:`fit_first_level` from the config's ``analysis`` section."""
    return {
        "hrf_model": analysis.hrf_model,
        "drift_model": analysis.drift_model,
        "high_pass_hz": analysis.high_pass_hz,
        "noise_model": analysis.noise_model,
        "smoothing_fwhm_mm": analysis.smoothing_fwhm_mm,
    }


#: Realignment parameters, in fMRIPrep's names.
MOTION_PARAMETERS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
_MOTION_SUFFIXES = {
    "basic": ("",),
    "power2": ("", "_power2"),
    "derivatives": ("", "_derivative1"),
    "full": ("", "_power2", "_derivative1", "_derivative1_power2"),
}


#: The mean-signal columns each of ``load_confounds``' tissue strategies reads.
TISSUE_STRATEGIES = {"wm_csf": ("csf", "white_matter"), "global_signal": ("global_signal",)}


def confound_regressors(
    confounds: Sequence[pd.DataFrame] | None, strategy: Mapping[str, Any]
) -> list[pd.DataFrame] | None:
    """Select confounds in memory as nilearn's ``load_confounds`` selects them from files.

    For the in-memory simulated studies (replicates, noise validation), whose
    confounds never reach a file: the columns of the ``motion``, ``wm_csf``
    and ``global_signal`` strategies (each with its option: basic, power2,
    derivatives or full), first-row derivatives filled and columns demeaned
    by nilearn's own ``prepare_output``, so the regressors equal those the
    workflow's :func:`~empathy_fmri.io.run_inputs.read_run_confounds` reads.

    Parameters
    ----------
    confounds : sequence of pandas.DataFrame or None
        Each run's full confounds table (fMRIPrep's columns).
    strategy : mapping
        ``analysis.confounds``; ``strategy`` may list ``motion``, ``wm_csf``
        and ``global_signal``.

    Returns
    -------
    list of pandas.DataFrame or None
        None when the strategy is empty.

    Raises
    ------
    ValueError
        If the strategy asks for another strategy (scrubbing, CompCor and
        the others need what only fMRIPrep's files have), or a table lacks a
        column it needs (the tissue signals are made from the written image,
        :func:`empathy_fmri.pipeline.simulated_subject.add_tissue_signals`).
    """
    from nilearn.interfaces.fmriprep.load_confounds_utils import prepare_output

    strategies = list(strategy.get("strategy", ()))
    if confounds is None or not strategies:
        return None
    other = [s for s in strategies if s != "motion" and s not in TISSUE_STRATEGIES]
    if other:
        raise ValueError(
            f"'analysis.confounds.strategy' {strategies}: the in-memory simulated studies "
            f"support the motion, wm_csf and global_signal strategies only, not {other}"
        )
    columns = []
    for name in strategies:
        signals = MOTION_PARAMETERS if name == "motion" else TISSUE_STRATEGIES[name]
        suffixes = _MOTION_SUFFIXES[strategy.get(name, "basic")]
        columns += [f"{signal}{suffix}" for suffix in suffixes for signal in signals]
    selected = []
    for table in confounds:
        missing = [column for column in columns if column not in table.columns]
        if missing:
            raise ValueError(
                f"'analysis.confounds.strategy' {strategies} needs the confound columns "
                f"{missing}, which the simulated run's table does not have"
            )
        _, regressors = prepare_output(table[columns].astype(float).copy(), demean=True)
        selected.append(pd.DataFrame(regressors, columns=columns))
    return selected


def _float32_data(img: nib.Nifti1Image) -> np.ndarray:
    """A run's data as float32, scaled in float32 (exact for int16 data and a float32 slope)."""
    proxy = img.dataobj
    if isinstance(proxy, ArrayProxy) and np.issubdtype(img.get_data_dtype(), np.integer):
        data = np.asanyarray(proxy.get_unscaled()).astype(np.float32)
        slope, inter = np.float32(proxy.slope), np.float32(proxy.inter)
        if slope != 1:
            data *= slope
        if inter != 0:
            data += inter
        return data
    return img.get_fdata(dtype=np.float32)


def smooth_and_mask(
    data: np.ndarray, affine: np.ndarray, mask: np.ndarray, fwhm_mm: float
) -> np.ndarray:
    """Smooth a 4D run and keep the mask's voxels, as a fitted ``NiftiMasker`` would.

    nilearn's ``smooth_array`` (a Gaussian of ``fwhm_mm``, truncated at 4
    SD, reflected at the volume's faces) runs on the mask's bounding box
    grown by the kernel's radius (clipped to the volume), so every mask voxel
    gets the value it gets when the whole volume is smoothed.

    Parameters
    ----------
    data : numpy.ndarray of shape (x, y, z, n_scans)
        The run (float32).
    affine : numpy.ndarray of shape (4, 4)
        Its affine (for the voxel size).
    mask : numpy.ndarray of bool, shape (x, y, z)
        The analysis mask.
    fwhm_mm : float
        Smoothing FWHM (mm); 0 for none.

    Returns
    -------
    numpy.ndarray of shape (n_scans, n_voxels)
        The time series of the mask's voxels (in ``mask``'s C order), a
        C-contiguous array as ``NiftiMasker.transform`` returns.
    """
    if not mask.any():
        raise ValueError("the analysis mask is empty")
    # C order, as NiftiMasker returns it: the float32 means of mean_scaling,
    # and so the AR(1) groups, depend on the order of summation.
    if not fwhm_mm:
        return np.ascontiguousarray(data[mask].T)
    voxel_mm = np.sqrt(np.sum(affine[:3, :3] ** 2, axis=0))
    sigma = fwhm_mm / (np.sqrt(8 * np.log(2)) * voxel_mm)
    # gaussian_filter1d's radius at its default truncate=4.0.
    radius = np.array([int(4.0 * float(s) + 0.5) for s in sigma])
    where = np.argwhere(mask)
    low = np.maximum(where.min(axis=0) - radius, 0)
    high = np.minimum(where.max(axis=0) + radius + 1, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high, strict=True))
    smoothed = smooth_array(data[box], affine, fwhm=fwhm_mm, ensure_finite=True, copy=True)
    return np.ascontiguousarray(smoothed[mask[box]].T)


def run_design_matrix(
    n_scans: int,
    events: pd.DataFrame,
    confounds: pd.DataFrame | None,
    tr_s: float,
    *,
    hrf_model: str,
    drift_model: str,
    high_pass_hz: float,
) -> pd.DataFrame:
    """One run's design matrix, as ``FirstLevelModel(slice_time_ref=0)`` builds it.

    Parameters
    ----------
    n_scans : int
        Volumes of the run.
    events : pandas.DataFrame
        ``onset``, ``duration`` and ``trial_type`` of the run's events.
    confounds : pandas.DataFrame or None
        Confound regressors, one row per volume.
    tr_s : float
        Repetition time (s).
    hrf_model, drift_model, high_pass_hz : str, str, float
        As for :func:`fit_first_level`.

    Returns
    -------
    pandas.DataFrame
        Indexed by frame time (s); conditions, confounds, drifts and constant.
    """
    if confounds is not None and len(confounds) != n_scans:
        raise ValueError(
            f"the confounds have {len(confounds)} rows but the run has {n_scans} volumes"
        )
    frame_times = np.linspace(0.0, (n_scans - 1) * tr_s, n_scans)
    return make_first_level_design_matrix(
        frame_times,
        events,
        hrf_model=hrf_model,
        drift_model=drift_model,
        high_pass=high_pass_hz,
        drift_order=1,
        fir_delays=[0],
        add_regs=None if confounds is None else confounds.to_numpy(),
        add_reg_names=None if confounds is None else confounds.columns.tolist(),
        min_onset=-24,
    )


def fit_first_level(
    bold_imgs: Sequence[str | Path | nib.Nifti1Image],
    events: Sequence[pd.DataFrame],
    confounds: Sequence[pd.DataFrame] | None,
    tr_s: float,
    *,
    hrf_model: str = "glover",
    drift_model: str = "cosine",
    high_pass_hz: float = 0.008,
    noise_model: str = "ar1",
    smoothing_fwhm_mm: float = 6.0,
    mask_img: nib.Nifti1Image | None = None,
    n_jobs: int = 1,
    sample_masks: Sequence[np.ndarray | None] | None = None,
) -> FirstLevelResult:
    """Fit a subject's GLM over all runs and compute the task contrasts.

    Parameters
    ----------
    bold_imgs : sequence of Niimg-like
        One 4D image per run.
    events : sequence of pandas.DataFrame
        BIDS events per run (``trial_type`` needle and swab; any other trial
        type is modelled as a regressor of its own and enters no contrast).
    confounds : sequence of pandas.DataFrame or None
        Confound regressors per run (e.g. the six motion parameters).
    tr_s : float
        Repetition time (s).
    hrf_model, drift_model, high_pass_hz, noise_model : str, str, float, str
        As for :class:`nilearn.glm.first_level.FirstLevelModel` (``hrf_model``,
        ``drift_model``, ``high_pass``, ``noise_model``).
    smoothing_fwhm_mm : float
        Spatial smoothing (0 = none).
    mask_img : Niimg-like, optional
        Analysis mask on the runs' grid; by default :func:`analysis_mask` of
        the first run.
    n_jobs : int
        Parallel jobs over the AR(1) groups of voxels.
    sample_masks : sequence of numpy.ndarray or None, optional
        Per run, the indices of the volumes to fit (None: all), as nilearn's
        ``load_confounds`` returns them (non-steady-state volumes left out):
        as in ``FirstLevelModel.fit(sample_masks=...)``, the design is built
        on every volume and both it and the data are then cut to these rows.

    Returns
    -------
    FirstLevelResult
        Effect, variance and z maps per contrast, the design matrices and the
        time per stage; the maps are those of ``FirstLevelModel`` with a
        fitted float32 ``NiftiMasker`` of ``mask_img``, ``slice_time_ref=0``,
        ``signal_scaling=0`` and ``minimize_memory=True``. Effects are in
        percent signal change at the peak of a block's modelled response:
        nilearn scales each voxel to its mean (``signal_scaling=0``) and the
        coefficients are multiplied by
        :func:`~empathy_fmri.task.hrf.block_response_peak`, the convention the
        simulator uses for its planted amplitudes.
    """
    if len(bold_imgs) == 0:
        raise ValueError("bold_imgs is empty: no run to fit")
    if len(events) != len(bold_imgs):
        raise ValueError(
            f"got {len(bold_imgs)} BOLD runs but {len(events)} events tables; one per run"
        )
    for run, table in enumerate(events, start=1):
        present = sorted(set(table["trial_type"].astype(str)))
        missing = [c for c in CONDITIONS if c not in present]
        if missing:
            raise ValueError(
                f"the events table of run {run} (of {len(events)}) has no event of trial_type "
                f"{missing} (its trial_type values are {present}); the model needs blocks of "
                f"trial_type {list(CONDITIONS)}, exactly and case-sensitively"
            )
    timings = dict.fromkeys(("mask", "load", "smooth_mask", "design", "glm", "contrasts"), 0.0)
    clock = time.perf_counter()
    if mask_img is None:
        mask_img = analysis_mask(bold_imgs[0])
    # A fitted masker with float32 output, for the maps (inverse_transform).
    masker = NiftiMasker(
        mask_img=mask_img, smoothing_fwhm=smoothing_fwhm_mm or None, dtype="float32"
    ).fit()
    mask = np.asarray(masker.mask_img_.dataobj).astype(bool)
    timings["mask"] = time.perf_counter() - clock
    clock = time.perf_counter()
    columns = ["onset", "duration", "trial_type"]
    design_matrices, labels, results = [], [], []
    for run, img in enumerate(bold_imgs):
        loaded = image.load_img(img)
        data = _float32_data(loaded)
        if (
            data.ndim != 4
            or data.shape[:3] != mask.shape
            or not np.allclose(loaded.affine, masker.mask_img_.affine, atol=1e-3)
        ):
            raise ValueError(
                f"BOLD run {run + 1} has shape {data.shape} and affine "
                f"{loaded.affine.round(3).tolist()}; the mask has {mask.shape} and "
                f"{masker.mask_img_.affine.round(3).tolist()}; expected a 4D run on the "
                "mask's grid"
            )
        timings["load"] += time.perf_counter() - clock
        clock = time.perf_counter()
        series = smooth_and_mask(data, loaded.affine, mask, smoothing_fwhm_mm)
        del data
        n_scans = series.shape[0]
        keep = None if sample_masks is None else sample_masks[run]
        if keep is not None:
            series = series[keep]
        series, _ = mean_scaling(series, 0)
        timings["smooth_mask"] += time.perf_counter() - clock
        clock = time.perf_counter()
        run_confounds = confounds[run] if confounds is not None else None
        design = run_design_matrix(
            n_scans,
            events[run][columns],
            run_confounds,
            tr_s,
            hrf_model=hrf_model,
            drift_model=drift_model,
            high_pass_hz=high_pass_hz,
        )
        design_matrices.append(design)
        timings["design"] += time.perf_counter() - clock
        clock = time.perf_counter()
        fitted = design.to_numpy() if keep is None else design.to_numpy()[keep]
        run_labels, run_results = run_glm_fast(
            series, fitted, noise_model=noise_model, n_jobs=n_jobs
        )
        del series
        labels.append(run_labels)
        results.append(run_results)
        timings["glm"] += time.perf_counter() - clock
        clock = time.perf_counter()
    # The psc scaling is that of a task block; other trial types (nuisance
    # regressors of their own) must not change it.
    task_events = pd.concat(list(events))
    block_s = float(
        task_events.loc[task_events["trial_type"].isin(CONDITIONS), "duration"].median()
    )
    peak = block_response_peak(hrf_model, block_s)
    maps: dict[str, dict[str, Any]] = {}
    for label, formula in CONTRASTS.items():
        contrast = compute_fixed_effect_contrast(
            labels,
            results,
            [expression_to_contrast_vector(formula, list(d.columns)) for d in design_matrices],
        )
        maps[label] = {
            "effect": masker.inverse_transform(contrast.effect_size() * peak),
            "variance": masker.inverse_transform(contrast.effect_variance() * peak**2),
            "z": masker.inverse_transform(contrast.z_score()),
        }
        logger.info("contrast %s computed", label)
    timings["contrasts"] += time.perf_counter() - clock
    logger.info(
        "first level: %s", ", ".join(f"{key} {value:.2f} s" for key, value in timings.items())
    )
    return FirstLevelResult(maps=maps, design_matrices=design_matrices, timings=timings)
