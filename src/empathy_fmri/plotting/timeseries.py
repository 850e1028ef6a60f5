"""One subject's data: an ROI's BOLD time series with the GLM fit over it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from nilearn import image, masking

from empathy_fmri.plotting.style import CONDITION_COLOURS, figure_style, save_figure

__all__ = [
    "figure_roi_timeseries",
    "fit_roi_timeseries",
    "plot_roi_timeseries",
]


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
        estimate of every regressor, ``attrs["r_squared"]`` the share of
        variance the model explains.

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
            f"conditions {missing} are not columns of design_matrix "
            f"({list(design_matrix.columns)})"
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
    return table


def plot_roi_timeseries(
    runs: Sequence[pd.DataFrame],
    events: Sequence[pd.DataFrame],
    roi: str,
    title: str | None = None,
) -> Figure:
    """Draw an ROI's time series and model fit per run, task blocks shaded.

    Parameters
    ----------
    runs : sequence of pandas.DataFrame
        One table per run from :func:`fit_roi_timeseries`.
    events : sequence of pandas.DataFrame
        BIDS events of each run (``onset``, ``duration``, ``trial_type``).
    roi : str
        ROI name, for the labels.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run: the measured signal after removing drift and
        motion (grey), the fitted task model (black), needle and swab blocks
        shaded.
    """
    if len(runs) == 0 or len(runs) != len(events):
        raise ValueError(
            f"runs and events must be non-empty and of equal length, got {len(runs)} "
            f"and {len(events)}"
        )
    with figure_style():
        figure = Figure(figsize=(10, 1.0 + 2.4 * len(runs)), layout="constrained")
        axes = figure.subplots(len(runs), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
        for run, (table, run_events, ax) in enumerate(
            zip(runs, events, axes, strict=True), start=1
        ):
            for row in run_events.itertuples():
                ax.axvspan(
                    row.onset, row.onset + row.duration, lw=0, alpha=0.18,
                    color=CONDITION_COLOURS.get(row.trial_type, "0.5"),
                )
            ax.plot(table["time_s"], table["cleaned_psc"], color="0.45", lw=1.0,
                    marker="o", ms=2.2)
            ax.plot(table["time_s"], table["task_psc"], color="black", lw=1.8)
            r_squared = table.attrs.get("r_squared")
            label = f"run {run}" + (f"   (full model R\u00b2 = {r_squared:.2f})"
                                    if r_squared is not None else "")
            ax.set_title(label, loc="left", fontsize=10)
            ax.set_ylabel("BOLD change from\nfixation (%)")
            ax.axhline(0, color="0.7", lw=0.6)
        axes[-1].set_xlabel("time from run start (s)")
        axes[0].set_xlim(0, max(float(t["time_s"].max()) for t in runs))
        handles = [
            Line2D([], [], color="0.45", marker="o", ms=3, lw=1.0,
                   label=f"{roi} mean signal (drift, motion, baseline removed)"),
            Line2D([], [], color="black", lw=1.8, label="fitted needle + swab model"),
            *[
                Patch(facecolor=colour, alpha=0.3, label=f"{condition} block")
                for condition, colour in CONDITION_COLOURS.items()
            ],
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
        figure.suptitle(title or f"{roi}: BOLD time series and GLM fit")
    return figure


def figure_roi_timeseries(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    design_paths: Sequence[str | Path],
    centres_path: str | Path,
    roi: str,
    radius_mm: float,
    grey_matter_threshold: float,
    subject: str,
    outputs: Sequence[str | Path],
) -> None:
    """Fit :func:`fit_roi_timeseries` on each run of a subject, draw, save.

    Parameters
    ----------
    bold_paths, events_paths, design_paths : sequence of path
        The subject's raw BOLD runs, events and first-level design matrices,
        in run order.
    centres_path : str or pathlib.Path
        ``roi_centres.tsv``; the ``independent`` (a-priori) ROI is used.
    roi : str
        ROI name.
    radius_mm : float
        ROI radius (mm).
    grey_matter_threshold : float
        Grey-matter probability threshold.
    subject : str
        Participant label, for the title.
    outputs : sequence of path
        Figure files.
    """
    from empathy_fmri.io.bids import read_events
    from empathy_fmri.plotting.brain import read_roi_centres, roi_mask_images
    from empathy_fmri.plotting.design import read_design_matrix

    centres = read_roi_centres(centres_path, "independent")
    if roi not in centres:
        raise ValueError(f"roi: '{roi}' is not one of the ROIs {list(centres)}")
    reference = image.index_img(bold_paths[0], 0)
    masks = roi_mask_images(centres, radius_mm, reference, grey_matter_threshold)
    runs = [
        fit_roi_timeseries(bold, read_design_matrix(design), masks[roi])
        for bold, design in zip(bold_paths, design_paths, strict=True)
    ]
    events = [read_events(path) for path in events_paths]
    n_voxels = int(np.asarray(masks[roi].dataobj).sum())
    figure = plot_roi_timeseries(
        runs, events, roi,
        title=f"{subject}, {roi} ({n_voxels} voxels): BOLD signal and the GLM fit",
    )
    save_figure(figure, outputs)
