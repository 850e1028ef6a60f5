"""First-level GLM of one subject with nilearn's ``FirstLevelModel``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import datasets, image
from nilearn.glm.first_level import FirstLevelModel
from nilearn.maskers import NiftiMasker

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.task.conditions import CONDITIONS, CONTRASTS
from empathy_fmri.task.hrf import block_response_peak

__all__ = [
    "FirstLevelResult",
    "analysis_mask",
    "confound_regressors",
    "fit_first_level",
    "glm_options",
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
    """

    maps: dict[str, dict[str, nib.Nifti1Image]]
    design_matrices: list[pd.DataFrame]


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
    mask = datasets.load_mni152_brain_mask(resolution=max(1, round(voxel)))
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


def confound_regressors(
    confounds: Sequence[pd.DataFrame] | None, columns: Sequence[str]
) -> list[pd.DataFrame] | None:
    """The confound columns the model uses, with ``n/a`` (first-row derivatives) set to 0.

    Parameters
    ----------
    confounds : sequence of pandas.DataFrame or None
        Each run's confounds table.
    columns : sequence of str
        ``analysis.confounds``; empty for no confounds.

    Returns
    -------
    list of pandas.DataFrame or None
        None when no column is asked for.
    """
    if not columns or confounds is None:
        return None
    return [table[list(columns)].fillna(0.0) for table in confounds]


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
        Passed to :class:`nilearn.glm.first_level.FirstLevelModel`.
    smoothing_fwhm_mm : float
        Spatial smoothing (0 = none).
    mask_img : Niimg-like, optional
        Analysis mask; by default :func:`analysis_mask` of the first run.
    n_jobs : int
        Parallel jobs for nilearn.

    Returns
    -------
    FirstLevelResult
        Effect, variance and z maps per contrast, and the design matrices.
        Effects are in percent signal change at the peak of a block's modelled
        response: nilearn scales each voxel to its mean (``signal_scaling=0``)
        and the coefficients are multiplied by
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
    if mask_img is None:
        mask_img = analysis_mask(bold_imgs[0])
    # A fitted masker with float32 output: nilearn would otherwise load and
    # smooth every run in float64, doubling the job's peak memory.
    masker = NiftiMasker(
        mask_img=mask_img, smoothing_fwhm=smoothing_fwhm_mm or None, dtype="float32"
    ).fit()
    model = FirstLevelModel(
        t_r=tr_s,
        slice_time_ref=0.0,
        hrf_model=hrf_model,
        drift_model=drift_model,
        high_pass=high_pass_hz,
        noise_model=noise_model,
        smoothing_fwhm=smoothing_fwhm_mm or None,
        mask_img=masker,
        signal_scaling=0,
        minimize_memory=True,
        n_jobs=n_jobs,
    )
    columns = ["onset", "duration", "trial_type"]
    model.fit(
        [image.load_img(img, dtype="float32") for img in bold_imgs],
        events=[table[columns] for table in events],
        confounds=list(confounds) if confounds is not None else None,
    )
    # The psc scaling is that of a task block; other trial types (nuisance
    # regressors of their own) must not change it.
    task_events = pd.concat(list(events))
    block_s = float(
        task_events.loc[task_events["trial_type"].isin(CONDITIONS), "duration"].median()
    )
    peak = block_response_peak(hrf_model, block_s)
    maps: dict[str, dict[str, Any]] = {}
    for label, formula in CONTRASTS.items():
        outputs = model.compute_contrast(formula, output_type="all")
        maps[label] = {
            "effect": image.math_img(f"img * {peak!r}", img=outputs["effect_size"]),
            "variance": image.math_img(f"img * {peak**2!r}", img=outputs["effect_variance"]),
            "z": outputs["z_score"],
        }
        logger.info("contrast %s computed", label)
    return FirstLevelResult(maps=maps, design_matrices=list(model.design_matrices_))


