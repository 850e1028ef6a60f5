"""Readers of the workflow's own result tables (ROI centres, design matrices)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_roi_centres(
    path: str | Path,
    selection: str = "independent",
    score: str = "all",
    participant_id: str = "all",
) -> dict[str, list[float]]:
    """Read the ROI centres of one selection from ``roi_centres.tsv``.

    Parameters
    ----------
    path : str or pathlib.Path
        ``results/roi/roi_centres.tsv`` (``roi``, ``selection``, ``x``, ``y``,
        ``z``, and ``score`` and ``participant_id``, ``all`` where a row holds
        for every score or subject).
    selection : str
        ``independent`` (a-priori spheres), ``group_peak`` (spheres on the
        group peak), ``behaviour_peak`` or ``cross_validated`` (chosen on a score).
    score, participant_id : str
        The score a ``behaviour_peak`` or ``cross_validated`` ROI was chosen
        on, and the left-out subject of a ``cross_validated`` one.

    Returns
    -------
    dict of str to [x, y, z]
        MNI centre (mm) of each ROI, in file order.

    Raises
    ------
    ValueError
        If the file has no row of that selection.
    """
    table = pd.read_csv(path, sep="\t", dtype={"score": str, "participant_id": str})
    rows = table[table["selection"] == selection]
    for column, value in (("score", score), ("participant_id", participant_id)):
        if column in rows:
            rows = rows[rows[column] == value]
    if rows.empty:
        raise ValueError(
            f"selection: '{path}' has no ROI of selection '{selection}' "
            f"(found {sorted(table['selection'].unique())})"
        )
    return {r.roi: [float(r.x), float(r.y), float(r.z)] for r in rows.itertuples()}


def read_design_matrices(path: str | Path) -> list[pd.DataFrame]:
    """Read a subject's design matrices written by the first level, one per run.

    Parameters
    ----------
    path : str or pathlib.Path
        ``sub-XX_task-T_design.tsv`` with the columns ``run`` and ``frame_time_s``.

    Returns
    -------
    list of pandas.DataFrame
        In run order, each with its own regressors as columns, indexed by
        ``frame_time_s`` (s).

    Raises
    ------
    ValueError
        If the file lacks the column ``run`` or ``frame_time_s``.
    """
    table = pd.read_csv(path, sep="\t", dtype={"run": str})
    for column in ("run", "frame_time_s"):
        if column not in table.columns:
            raise ValueError(f"design matrix '{path}' lacks the column '{column}'")
    return [
        part.drop(columns="run").dropna(axis=1, how="all").set_index("frame_time_s")
        for _, part in table.groupby("run", sort=False)
    ]
