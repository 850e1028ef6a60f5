"""Job first_level: read a subject's runs from BIDS, fit the GLM, write maps and design matrices."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig, DilemmasConfig
from empathy_fmri.io.atomic import write_json, write_nifti, write_tsv
from empathy_fmri.io.phenotype import DILEMMA_SCORES, read_phenotype
from empathy_fmri.io.run_inputs import SubjectRuns, read_subject_runs
from empathy_fmri.jobs.logs import recorded_warnings
from empathy_fmri.pipeline.first_level import first_level_step

__all__ = [
    "design_table",
    "read_runs",
    "run_first_level",
    "write_participants_table",
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
        subject,
        source["bids_dir"],
        source["derivatives"],
        source["task"],
        source["space"],
        analysis.conditions,
        analysis.confounds,
        expected_bold,
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
    inputs_json: str | Path | None = None,
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
    inputs_json : str or pathlib.Path, optional
        Output: what was read (runs, files, TR, volumes, confound columns,
        nuisance trial types) and the warnings logged while reading and
        fitting (``warnings``, one line each, e.g. a header TR other than the
        sidecar's), for the participants table and the warnings record.
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
    with recorded_warnings() as warnings:
        timings = _fit_and_write(
            subject,
            source,
            analysis,
            statmap_paths,
            design_tsv,
            design_png,
            inputs_json,
            expected_bold,
            n_jobs,
            warnings,
        )
    return timings


def _fit_and_write(
    subject: str,
    source: dict[str, str],
    analysis: AnalysisConfig,
    statmap_paths: dict[str, dict[str, str | Path]],
    design_tsv: str | Path,
    design_png: str | Path,
    inputs_json: str | Path | None,
    expected_bold: Sequence[str | Path] | None,
    n_jobs: int,
    warnings: list[str],
) -> dict[str, float]:
    """The body of :func:`run_first_level`; ``warnings`` fills while it runs."""
    clock = time.perf_counter()
    runs = read_runs(subject, source, analysis, expected_bold)
    timings = {"read_runs": time.perf_counter() - clock}
    logger.info(
        "%s: %d run(s), TR %g s from the sidecars, confounds %s",
        subject,
        len(runs.runs),
        runs.tr_s,
        dict(analysis.confounds),
    )
    result = first_level_step(
        runs.bold_paths,
        runs.events,
        runs.confounds,
        runs.tr_s,
        analysis,
        n_jobs=n_jobs,
        sample_masks=runs.sample_masks,
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
    # matplotlib only here: the ROI-GLM jobs import this module for read_runs
    from empathy_fmri.plotting.design import plot_design_matrices
    from empathy_fmri.plotting.style import save_figure

    figure = plot_design_matrices(
        result.design_matrices, title=f"First-level design matrix of {subject}", labels=labels
    )
    save_figure(figure, [design_png], dpi=150)
    timings["design_files"] = time.perf_counter() - clock
    if inputs_json is not None:
        write_json(
            inputs_json,
            {
                "participant_id": subject,
                "runs": labels,
                "tr_s": runs.tr_s,
                "n_volumes": [int(img.shape[3]) for img in runs.images],
                "n_volumes_fitted": [
                    int(img.shape[3]) if keep is None else len(keep)
                    for img, keep in zip(runs.images, runs.sample_masks, strict=True)
                ],
                "confound_columns": list(runs.confounds[0].columns) if runs.confounds else [],
                "nuisance_trial_types": runs.nuisance_trial_types,
                # what was logged as a warning while reading and fitting (e.g. a
                # header TR other than the sidecar's), for the warnings record
                "warnings": list(warnings),
                "files": [
                    {
                        "bold": str(r.bold),
                        "events": str(r.events),
                        "confounds": str(r.confounds) if runs.confounds else None,
                        "mask": str(r.mask) if r.mask else None,
                    }
                    for r in runs.runs
                ],
            },
        )
    logger.info(
        "first level stages: %s",
        ", ".join(f"{key} {value:.2f} s" for key, value in timings.items()),
    )
    return timings


def write_participants_table(
    listed: Sequence[str],
    excluded: dict[str, str],
    inputs_paths: Sequence[str | Path],
    table_path: str | Path,
    phenotype_path: str | Path | None = None,
    dilemmas: DilemmasConfig | None = None,
) -> pd.DataFrame:
    """Who was analysed, who was left out and why, and what was read of each.

    Parameters
    ----------
    listed : sequence of str
        The dataset's participants.
    excluded : dict
        ``analysis.participants.exclude``: label -> reason.
    inputs_paths : sequence of path
        The first level's ``inputs_json`` of every analysed participant.
    table_path : str or pathlib.Path
        Output TSV: ``participant_id``, ``analysed``, ``reason``, ``runs``,
        ``tr_s``, ``n_volumes``, ``n_volumes_fitted`` (without non-steady-state
        or scrubbed volumes), ``confound_columns``, ``nuisance_trial_types``;
        with ``dilemmas``, also the scores computed from the raw dilemma
        counts (``U``, ``D``, ``willingness_to_harm``) and ``pd_edge_case``
        (``yes`` where the extreme-proportion correction was applied; ``n/a``
        for a participant without a phenotype row).
    phenotype_path : str or pathlib.Path, optional
        The phenotype file (``analysis.phenotype``), needed with ``dilemmas``.
    dilemmas : DilemmasConfig, optional
        ``analysis.dilemmas``: score the raw dilemma counts as every job does
        (:func:`~empathy_fmri.io.phenotype.read_phenotype`).

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    import json

    read = {}
    for path in inputs_paths:
        info = json.loads(Path(path).read_text())
        read[info["participant_id"]] = info
    rows = []
    for subject in listed:
        info = read.get(subject)
        rows.append(
            {
                "participant_id": subject,
                "analysed": "no" if subject in excluded else "yes",
                "reason": excluded.get(subject, "n/a"),
                "runs": ", ".join(info["runs"]) if info else "n/a",
                "tr_s": info["tr_s"] if info else None,
                "n_volumes": ", ".join(str(n) for n in info["n_volumes"]) if info else "n/a",
                "n_volumes_fitted": ", ".join(str(n) for n in info["n_volumes_fitted"])
                if info
                else "n/a",
                "confound_columns": len(info["confound_columns"]) if info else None,
                "nuisance_trial_types": ", ".join(info["nuisance_trial_types"]) or "none"
                if info
                else "n/a",
            }
        )
    table = pd.DataFrame(rows)
    if dilemmas is not None:
        if phenotype_path is None:
            raise ValueError("scoring the raw dilemma counts needs the phenotype file")
        scored = read_phenotype(phenotype_path, DILEMMA_SCORES[:3], dilemmas)
        for column in DILEMMA_SCORES:
            table[column] = [scored.loc[s, column] if s in scored.index else np.nan for s in listed]
        table["pd_edge_case"] = table["pd_edge_case"].fillna("n/a")
    write_tsv(table_path, table)
    for subject, reason in excluded.items():
        logger.warning("%s left out of the analysis: %s", subject, reason)
    return table
