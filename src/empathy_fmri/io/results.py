"""Readers of the workflow's own result tables (ROI centres, design matrices)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_roi_centres(path: str | Path, selection: str = "independent") -> dict[str, list[float]]:
    """Read the ROI centres of one selection from ``roi_centres.tsv``.

    Parameters
    ----------
    path : str or pathlib.Path
        ``results/roi/roi_centres.tsv`` (``roi``, ``selection``, ``x``, ``y``, ``z``).
    selection : str
        ``independent`` (a-priori spheres) or ``circular`` (spheres on the
        group peak).

    Returns
    -------
    dict of str to [x, y, z]
        MNI centre (mm) of each ROI, in file order.

    Raises
    ------
    ValueError
        If the file has no row of that selection.
    """
    table = pd.read_csv(path, sep="\t")
    rows = table[table["selection"] == selection]
    if rows.empty:
        raise ValueError(
            f"selection: '{path}' has no ROI of selection '{selection}' "
            f"(found {sorted(table['selection'].unique())})"
        )
    return {r.roi: [float(r.x), float(r.y), float(r.z)] for r in rows.itertuples()}


def read_design_matrix(path: str | Path) -> pd.DataFrame:
    """Read a design matrix TSV written by the first level, indexed by frame time.

    Parameters
    ----------
    path : str or pathlib.Path
        ``sub-XX_task-T_run-N_design.tsv`` with a ``frame_time_s`` column.

    Returns
    -------
    pandas.DataFrame
        One column per regressor, indexed by ``frame_time_s`` (s).

    Raises
    ------
    ValueError
        If the file has no ``frame_time_s`` column.
    """
    table = pd.read_csv(path, sep="\t")
    if "frame_time_s" not in table.columns:
        raise ValueError(f"design matrix '{path}' lacks the column 'frame_time_s'")
    return table.set_index("frame_time_s")
