"""Job first_level: read a subject's runs from BIDS, fit the GLM, write maps and design matrices."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_nifti, write_tsv
from empathy_fmri.io.run_inputs import SubjectRuns, read_subject_runs
from empathy_fmri.pipeline.first_level import first_level_step
from empathy_fmri.plotting.design import plot_design_matrices
from empathy_fmri.plotting.style import save_figure

__all__ = [
    "design_table",
    "read_runs",
    "run_first_level",
]

logger = logging.getLogger(__name__)


def read_runs(
    subject: str,
    source: dict[str, str],
    analysis: AnalysisConfig,
    expected_bold: Sequence[str | Path] | None = None,
) -> SubjectRuns:
    """A subject's runs through the query layer, read and checked.

    Parameters
    ----------
    subject : str
        ``sub-`` prefixed label.
    source : dict
        ``bids_dir``, ``derivatives``, ``task`` and ``space`` of the dataset.
    analysis : AnalysisConfig
        ``conditions`` and ``confounds``.
    expected_bold : sequence of path, optional
        The BOLD inputs the workflow gave the job, checked against what is found.

    Returns
    -------
    SubjectRuns
        See :func:`empathy_fmri.io.run_inputs.read_subject_runs`.
    """
    return read_subject_runs(
        subject, source["bids_dir"], source["derivatives"], source["task"], source["space"],
        analysis.conditions, analysis.confounds, expected_bold,
    )


def design_table(matrices: Sequence[pd.DataFrame], labels: Sequence[str]) -> pd.DataFrame:
    """All runs' design matrices in one table: ``run``, ``frame_time_s``, the regressors."""
    parts = [
        matrix.reset_index(names="frame_time_s").assign(run=label)
        for matrix, label in zip(matrices, labels, strict=True)
    ]
    table = pd.concat(parts, ignore_index=True)
    return table[["run", *[c for c in table.columns if c != "run"]]]


def run_first_level(
    subject: str,
    source: dict[str, str],
    analysis: AnalysisConfig,
    statmap_paths: dict[str, dict[str, str | Path]],
    design_tsv: str | Path,
    design_png: str | Path,
    expected_bold: Sequence[str | Path] | None = None,
    n_jobs: int = 1,
) -> dict[str, float]:
    """Read a subject's runs, fit :func:`~empathy_fmri.pipeline.first_level.first_level_step`.

    Parameters
    ----------
    subject : str
        ``sub-`` prefixed label.
    source : dict
        ``bids_dir``, ``derivatives``, ``task`` and ``space`` of the dataset.
    analysis : AnalysisConfig
        HRF, drift, noise model, smoothing, conditions and confounds.
    statmap_paths : dict
        ``statmap_paths[contrast][stat]`` output path of each map.
    design_tsv, design_png : str or pathlib.Path
        Output: every run's design matrix in one table (column ``run``), and drawn.
    expected_bold : sequence of path, optional
        The BOLD inputs the workflow gave the job.
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
    InputFileError, LayoutError
        If an input file is missing, unreadable or does not hold what the model
        needs (see :func:`empathy_fmri.io.run_inputs.read_subject_runs`); no
        output is written then.
    """
    clock = time.perf_counter()
    runs = read_runs(subject, source, analysis, expected_bold)
    timings = {"read_runs": time.perf_counter() - clock}
    logger.info(
        "%s: %d run(s), TR %g s from the sidecars, confounds %s",
        subject, len(runs.runs), runs.tr_s, dict(analysis.confounds),
    )
    result = first_level_step(
        runs.bold_paths, runs.events, runs.confounds, runs.tr_s, analysis, n_jobs=n_jobs
    )
    timings.update(result.timings)
    clock = time.perf_counter()
    for contrast, stats in statmap_paths.items():
        for stat, path in stats.items():
            write_nifti(path, result.maps[contrast][stat])
    timings["write_maps"] = time.perf_counter() - clock
    clock = time.perf_counter()
    labels = [run.label for run in runs.runs]
    write_tsv(design_tsv, design_table(result.design_matrices, labels))
    figure = plot_design_matrices(
        result.design_matrices, title=f"First-level design matrix of {subject}", labels=labels
    )
    save_figure(figure, [design_png], dpi=150)
    timings["design_files"] = time.perf_counter() - clock
    logger.info(
        "first level stages: %s",
        ", ".join(f"{key} {value:.2f} s" for key, value in timings.items()),
    )
    return timings
