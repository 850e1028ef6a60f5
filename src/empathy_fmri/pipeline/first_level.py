"""First level of one subject, in memory: confound selection and the GLM."""

from __future__ import annotations

from collections.abc import Sequence

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.analysis.first_level import (
    FirstLevelResult,
    fit_first_level,
    glm_options,
)
from empathy_fmri.config.sections import AnalysisConfig

__all__ = [
    "first_level_step",
]


def first_level_step(
    bold_imgs: Sequence[str | nib.Nifti1Image],
    events: Sequence[pd.DataFrame],
    confounds: Sequence[pd.DataFrame] | None,
    tr_s: float,
    analysis: AnalysisConfig,
    mask_img: nib.Nifti1Image | None = None,
    n_jobs: int = 1,
    sample_masks: Sequence[np.ndarray | None] | None = None,
) -> FirstLevelResult:
    """Fit one subject's first-level GLM over all runs, as the study configures it.

    Parameters
    ----------
    bold_imgs : sequence of Niimg-like or path
        One BOLD image per run.
    events : sequence of pandas.DataFrame
        Each run's events.
    confounds : sequence of pandas.DataFrame or None
        Each run's confound regressors, as selected by ``analysis.confounds``
        (:func:`~empathy_fmri.io.run_inputs.read_run_confounds` from files,
        :func:`~empathy_fmri.analysis.first_level.confound_regressors` in memory).
    tr_s : float
        Repetition time (s).
    analysis : AnalysisConfig
        HRF, drift, noise model, smoothing and confound columns.
    mask_img : Niimg-like, optional
        Analysis mask (nilearn's MNI brain mask on the BOLD grid if None).
    n_jobs : int
        Parallel jobs over the AR(1) groups of voxels.
    sample_masks : sequence of numpy.ndarray or None, optional
        Per run, the volumes to fit (None: all), from ``load_confounds``.

    Returns
    -------
    FirstLevelResult
    """
    return fit_first_level(
        bold_imgs,
        events,
        confounds,
        tr_s,
        **glm_options(analysis),
        mask_img=mask_img,
        n_jobs=n_jobs,
        sample_masks=sample_masks,
    )
