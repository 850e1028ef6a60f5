"""An ROI's mean BOLD time series and the OLS fit of a first-level design to it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import image, masking


def fit_roi_timeseries(
    bold_img: str | Path | nib.Nifti1Image,
    design_matrix: pd.DataFrame,
    roi_mask: nib.Nifti1Image,
    conditions: Sequence[str] = ("needle", "swab"),
) -> pd.DataFrame:
    """Mean ROI signal of one run in percent signal change, with a GLM fit.

    The ROI-mean signal is scaled to percent change from its run mean (as the
    first level scales each voxel) and the run's first-level design matrix is
    fitted to it by ordinary least squares. (The first level itself
    prewhitens with an AR(1) model, which changes the estimates a little but
    not the picture.)

    Parameters
    ----------
    bold_img : Niimg-like
        One 4D BOLD run.
    design_matrix : pandas.DataFrame
        The run's design matrix, one row per scan, indexed by frame time (s).
    roi_mask : nibabel.Nifti1Image
        Binary ROI mask on the BOLD grid.
    conditions : sequence of str
        Task regressors; the rest are nuisance (drift, motion, constant).

    Returns
    -------
    pandas.DataFrame
        Columns ``time_s``, ``signal_psc`` (data, change from the run mean),
        ``fitted_psc`` (full model), ``task_psc`` (task regressors times
        their estimates: the response relative to fixation) and
        ``cleaned_psc`` (data minus the fitted drift, motion and constant, on
        the scale of ``task_psc``). ``attrs["betas"]`` holds the
        estimate of every regressor; ``attrs["r_squared_task"]`` is the share
        of the cleaned signal's variance the task model explains, ``1 -
        var(cleaned - task) / var(cleaned)``: how well the task line fits the
        cleaned points a figure draws; ``attrs["r_squared"]`` is the share of
        the raw signal's variance the whole model (task, drift, motion,
        constant) explains, which counts the drift and motion it removes.

    Raises
    ------
    ValueError
        If the design matrix and the run differ in length, a condition is
        not a column, or the mask is empty.
    """
    bold = image.load_img(bold_img)
    if bold.shape[3] != len(design_matrix):
        raise ValueError(
            f"design_matrix has {len(design_matrix)} rows but the BOLD run has "
            f"{bold.shape[3]} scans"
        )
    missing = [c for c in conditions if c not in design_matrix.columns]
    if missing:
        raise ValueError(
            f"conditions {missing} are not columns of design_matrix ({list(design_matrix.columns)})"
        )
    if not np.asarray(roi_mask.dataobj).any():
        raise ValueError("roi_mask is empty")
    signal = masking.apply_mask(bold, roi_mask).mean(axis=1)
    psc = 100.0 * (signal / signal.mean() - 1.0)
    X = design_matrix.to_numpy(float)
    betas, *_ = np.linalg.lstsq(X, psc, rcond=None)
    fitted = X @ betas
    task_index = [design_matrix.columns.get_loc(c) for c in conditions]
    task = X[:, task_index] @ betas[task_index]
    table = pd.DataFrame(
        {
            "time_s": design_matrix.index.to_numpy(float),
            "signal_psc": psc,
            "fitted_psc": fitted,
            "task_psc": task,
            "cleaned_psc": psc - (fitted - task),
        }
    )
    residual = psc - fitted
    table.attrs["betas"] = dict(zip(design_matrix.columns, betas.tolist(), strict=True))
    table.attrs["r_squared"] = float(1.0 - residual.var() / psc.var())
    cleaned = table["cleaned_psc"].to_numpy()
    table.attrs["r_squared_task"] = float(1.0 - residual.var() / cleaned.var())
    return table
