"""Job first_level: read a subject's runs from BIDS, fit the GLM, write maps and design matrices."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_nifti, write_tsv
from empathy_fmri.io.bids import check_bold, read_confounds, read_events
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.pipeline.first_level import first_level_step
from empathy_fmri.plotting.design import plot_run_design_matrix
from empathy_fmri.plotting.style import save_figure

__all__ = [
    "read_runs",
    "run_first_level",
]

logger = logging.getLogger(__name__)


def read_runs(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    confounds_paths: Sequence[str | Path],
    analysis: AnalysisConfig,
    tr_s: float,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame] | None]:
    """Check a subject's runs file by file and against each other; read events and confounds.

    Each BOLD run must be readable to its end, 4D, with the TR of
    ``design.tr`` and the grid of the first run; each events file must hold
    needle and swab blocks that start before its run ends (a block that
    starts in the run but ends after it is logged as a warning); each
    confounds file must have the requested columns, as numbers, with one row
    per volume of its run.

    Parameters
    ----------
    bold_paths, events_paths, confounds_paths : sequence of path
        One per run, in run order (``confounds_paths`` empty without confounds).
    analysis : AnalysisConfig
        ``confounds``: the confound columns to read.
    tr_s : float
        Repetition time (s).

    Returns
    -------
    events : list of pandas.DataFrame
        Each run's events.
    confounds : list of pandas.DataFrame or None
        Each run's confound columns, None when ``analysis.confounds`` is empty.

    Raises
    ------
    InputFileError
        Naming the file, and the column, trial type or count that is wrong.
    """
    columns = list(analysis.confounds)
    n_runs = len(bold_paths)
    if len(events_paths) != n_runs or (columns and len(confounds_paths) != n_runs):
        raise ValueError(
            f"got {len(bold_paths)} BOLD runs, {len(events_paths)} events files and "
            f"{len(confounds_paths)} confounds files; expected one of each per run"
        )
    images = [check_bold(path, tr_s) for path in bold_paths]
    first = images[0]
    for path, img in zip(bold_paths[1:], images[1:], strict=True):
        if img.shape[:3] != first.shape[:3]:
            raise InputFileError(
                path,
                f"has volumes of shape {img.shape[:3]} but the subject's first run "
                f"'{bold_paths[0]}' has {first.shape[:3]}; all runs of a subject must share "
                "one grid",
            )
        if not np.allclose(img.affine, first.affine, atol=1e-3):
            raise InputFileError(
                path,
                f"has the affine {img.affine.round(3).tolist()} but the subject's first run "
                f"'{bold_paths[0]}' has {first.affine.round(3).tolist()}; all runs of a "
                "subject must share one grid",
            )
    events = [read_events(path) for path in events_paths]
    for bold, img, path, table in zip(bold_paths, images, events_paths, events, strict=True):
        n_scans = int(img.shape[3])
        duration = n_scans * tr_s
        late = table["onset"] >= duration - 1e-6
        if late.any():
            raise InputFileError(
                path,
                f"has {int(late.sum())} event(s) that start after its run has ended: the last "
                f"onset is {table['onset'].max():g} s, but the run '{bold}' has {n_scans} "
                f"volumes of {tr_s:g} s, so it ends at {duration:g} s; is the run cut short, "
                "or are these the events of another run?",
            )
        ends = table["onset"] + table["duration"]
        if (ends > duration + 1e-6).any():
            logger.warning(
                "events file '%s' has %d event(s) that end after its run '%s' has ended "
                "(%d volumes, %g s; the last event ends at %g s): the model has only their "
                "start", path, int((ends > duration + 1e-6).sum()), bold, n_scans, duration,
                ends.max(),
            )
    if not columns:
        return events, None
    confounds = [read_confounds(path, columns) for path in confounds_paths]
    for bold, img, path, table in zip(bold_paths, images, confounds_paths, confounds, strict=True):
        if len(table) != img.shape[3]:
            raise InputFileError(
                path,
                f"has {len(table)} rows but its run '{bold}' has {img.shape[3]} volumes; a "
                "confounds file needs one row per volume (is the run, or the confounds file, "
                "from another acquisition or cut short?)",
            )
    return events, confounds


def run_first_level(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    confounds_paths: Sequence[str | Path],
    analysis: AnalysisConfig,
    tr_s: float,
    statmap_paths: dict[str, dict[str, str | Path]],
    design_paths: Sequence[tuple[str | Path, str | Path]],
    n_jobs: int = 1,
) -> dict[str, float]:
    """Read a subject's runs, fit :func:`~empathy_fmri.pipeline.first_level.first_level_step`.

    Parameters
    ----------
    bold_paths, events_paths, confounds_paths : sequence of path
        One per run, in run order (``confounds_paths`` empty without confounds).
    analysis : AnalysisConfig
        HRF, drift, noise model, smoothing and confound columns.
    tr_s : float
        Repetition time (s), checked against each BOLD header.
    statmap_paths : dict
        ``statmap_paths[contrast][stat]`` output path of each map.
    design_paths : sequence of (tsv, png)
        Output paths of each run's design matrix.
    n_jobs : int
        Parallel jobs over the AR(1) groups of voxels.

    Returns
    -------
    dict
        Seconds per stage: ``read_runs`` (the input checks), the fit's stages
        (:attr:`~empathy_fmri.analysis.first_level.FirstLevelResult.timings`),
        ``write_maps`` and ``design_files`` (TSV and PNG); also logged.

    Raises
    ------
    InputFileError
        If an input file is unreadable or does not hold what the model needs
        (see :func:`read_runs`); no output is written then.
    """
    clock = time.perf_counter()
    events, confounds = read_runs(bold_paths, events_paths, confounds_paths, analysis, tr_s)
    timings = {"read_runs": time.perf_counter() - clock}
    result = first_level_step(bold_paths, events, confounds, tr_s, analysis, n_jobs=n_jobs)
    timings.update(result.timings)
    clock = time.perf_counter()
    for contrast, stats in statmap_paths.items():
        for stat, path in stats.items():
            write_nifti(path, result.maps[contrast][stat])
    timings["write_maps"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for matrix, (tsv_path, png_path) in zip(result.design_matrices, design_paths, strict=True):
        write_tsv(tsv_path, matrix.reset_index(names="frame_time_s"))
        title = f"Design matrix: {Path(str(tsv_path)).name.removesuffix('.tsv')}"
        save_figure(plot_run_design_matrix(matrix, title), [png_path], dpi=150)
    timings["design_files"] = time.perf_counter() - clock
    logger.info(
        "first level stages: %s",
        ", ".join(f"{key} {value:.2f} s" for key, value in timings.items()),
    )
    return timings
