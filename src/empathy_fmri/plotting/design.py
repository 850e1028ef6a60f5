"""Figures of the task design: a run's blocks in time and the GLM design matrix."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from nilearn.plotting import plot_design_matrix

from empathy_fmri.plotting.style import CONDITION_COLOURS, figure_style

__all__ = [
    "plot_design_matrices",
    "plot_run_design_matrix",
    "plot_task_timeline",
]


def plot_task_timeline(
    events: pd.DataFrame,
    run_duration_s: float,
    design_matrix: pd.DataFrame | None = None,
    title: str = "Task design of one run",
    hrf_model: str = "glover",
) -> Figure:
    """Draw one run's blocks on a time line, and optionally the modelled responses.

    Parameters
    ----------
    events : pandas.DataFrame
        BIDS events (``onset``, ``duration`` in s, ``trial_type``).
    run_duration_s : float
        Length of the run (s); the time axis spans it.
    design_matrix : pandas.DataFrame, optional
        The run's design matrix indexed by frame time (s); its condition
        columns (the trial types) are drawn below the blocks: the block
        boxcars convolved with the HRF, as the GLM models them.
    title : str
        Figure title.
    hrf_model : str
        Name of the HRF the responses were convolved with, for the panel title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel (blocks) or two (blocks and modelled responses), sharing
        the time axis.
    """
    if run_duration_s <= 0:
        raise ValueError(f"run_duration_s must be positive, got {run_duration_s}")
    conditions = [c for c in CONDITION_COLOURS if c in set(events["trial_type"])]
    conditions += sorted(set(events["trial_type"]) - set(conditions))
    with figure_style():
        n_panels = 1 if design_matrix is None else 2
        figure = Figure(figsize=(9, 1.9 + 2.1 * (n_panels - 1)), layout="constrained")
        axes = figure.subplots(
            n_panels,
            1,
            sharex=True,
            squeeze=False,
            height_ratios=[1.0] if n_panels == 1 else [1.0, 1.6],
        )[:, 0]
        blocks = axes[0]
        for row, condition in enumerate(conditions):
            rows = events[events["trial_type"] == condition]
            blocks.broken_barh(
                list(zip(rows["onset"], rows["duration"], strict=True)),
                (row - 0.4, 0.8),
                facecolors=CONDITION_COLOURS.get(condition, "0.5"),
            )
        blocks.set_yticks(range(len(conditions)), [f"{c} video" for c in conditions])
        blocks.set_ylim(len(conditions) - 0.4, -0.6)
        blocks.set_xlim(0, run_duration_s)
        blocks.set_title("Blocks (fixation cross in between)", loc="left")
        blocks.spines["left"].set_visible(False)
        blocks.tick_params(axis="y", length=0)
        if design_matrix is not None:
            model = axes[1]
            for condition in conditions:
                if condition in design_matrix.columns:
                    model.plot(
                        design_matrix.index,
                        design_matrix[condition],
                        color=CONDITION_COLOURS.get(condition, "0.5"),
                        lw=1.8,
                        label=condition,
                    )
            model.axhline(0, color="0.6", lw=0.8)
            model.set_ylabel("regressor (a.u.)")
            model.set_title(
                f"Modelled BOLD response (block boxcar * {hrf_model} HRF), as the GLM models it",
                loc="left",
            )
            model.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        axes[-1].set_xlabel("time from run start (s)")
        figure.suptitle(title)
    return figure


def plot_design_matrices(
    design_matrices: Sequence[pd.DataFrame],
    title: str = "First-level design matrix",
    labels: Sequence[str] | None = None,
) -> Figure:
    """Draw a subject's design matrices, one panel per run, with nilearn.

    Parameters
    ----------
    design_matrices : sequence of pandas.DataFrame
        One design matrix per run (regressors as columns, scans as rows).
    title : str
        Figure title.
    labels : sequence of str, optional
        Panel titles (default ``run 1``, ``run 2``, ...).

    Returns
    -------
    matplotlib.figure.Figure
        One :func:`nilearn.plotting.plot_design_matrix` panel per run.
    """
    if len(design_matrices) == 0:
        raise ValueError("design_matrices is empty: give one design matrix per run")
    n_runs = len(design_matrices)
    with figure_style():
        figure = Figure(figsize=(1.2 + 3.4 * n_runs, 6.5), layout="constrained")
        axes = figure.subplots(1, n_runs, squeeze=False)[0]
        labels = labels or [f"run {i}" for i in range(1, n_runs + 1)]
        for label, matrix, ax in zip(labels, design_matrices, axes, strict=True):
            plot_design_matrix(matrix, axes=ax)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("regressor (columns scaled to unit maximum)")
            ax.set_ylabel("scan number")
        figure.suptitle(title)
    return figure


def plot_run_design_matrix(matrix: pd.DataFrame, title: str) -> Figure:
    """Draw one run's first-level design matrix with nilearn.

    Parameters
    ----------
    matrix : pandas.DataFrame
        The design matrix (frames x regressors).
    title : str
        Axes title, e.g. the file's name.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = Figure(figsize=(7, 6), layout="constrained")
    axes = figure.add_subplot()
    plot_design_matrix(matrix, axes=axes)
    axes.set_title(title)
    return figure
