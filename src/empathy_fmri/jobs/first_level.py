"""Job first_level: read a subject's runs from BIDS, fit the GLM, write maps and design matrices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_nifti, write_tsv
from empathy_fmri.io.bids import read_confounds, read_events
from empathy_fmri.pipeline.first_level import first_level_step
from empathy_fmri.plotting.design import plot_run_design_matrix
from empathy_fmri.plotting.style import save_figure

__all__ = [
    "run_first_level",
]

logger = logging.getLogger(__name__)


def run_first_level(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    confounds_paths: Sequence[str | Path],
    analysis: AnalysisConfig,
    tr_s: float,
    statmap_paths: dict[str, dict[str, str | Path]],
    design_paths: Sequence[tuple[str | Path, str | Path]],
    n_jobs: int = 1,
) -> None:
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
        Parallel jobs for nilearn.
    """
    for path in bold_paths:
        header_tr = float(nib.load(path).header.get_zooms()[3])
        if abs(header_tr - tr_s) > 1e-3:
            raise ValueError(
                f"'{path}' has a repetition time of {header_tr} s in its header but "
                f"'design.tr' is {tr_s} s; set design.tr to the data's TR"
            )
    events = [read_events(path) for path in events_paths]
    columns = list(analysis.confounds)
    confounds = [read_confounds(path, columns) for path in confounds_paths] if columns else None
    result = first_level_step(bold_paths, events, confounds, tr_s, analysis, n_jobs=n_jobs)
    for contrast, stats in statmap_paths.items():
        for stat, path in stats.items():
            write_nifti(path, result.maps[contrast][stat])
    for matrix, (tsv_path, png_path) in zip(result.design_matrices, design_paths, strict=True):
        write_tsv(tsv_path, matrix.reset_index(names="frame_time_s"))
        title = f"Design matrix: {Path(str(tsv_path)).name.removesuffix('.tsv')}"
        save_figure(plot_run_design_matrix(matrix, title), [png_path], dpi=150)
