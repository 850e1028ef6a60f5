"""Read and check a subject's runs at the boundary: BOLD, events, confounds, TR.

Everything the first level needs of one subject is read here, through the
query layer of :mod:`empathy_fmri.io.layout`, and checked file by file and
against each other, so that a bad input stops with a message that names the
file (and the column, trial type or count) instead of a traceback from deep
inside nilearn.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.io.bids import check_bold, read_events
from empathy_fmri.io.errors import InputFileError, LayoutError
from empathy_fmri.io.layout import RunFiles, find_runs, repetition_time

__all__ = [
    "SubjectRuns",
    "read_run_confounds",
    "read_subject_runs",
    "require_same_runs",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubjectRuns:
    """A subject's runs, read and checked.

    Attributes
    ----------
    runs : list of RunFiles
        Where each run's files are.
    images : list of nibabel.Nifti1Image
        The preprocessed BOLD runs (loaded lazily).
    events : list of pandas.DataFrame
        Each run's events, trial types mapped to ``needle`` and ``swab``.
    confounds : list of pandas.DataFrame or None
        Each run's confound regressors, None without a confound strategy.
    tr_s : float
        Repetition time (s) from the sidecars, the same in every run.
    nuisance_trial_types : list of str
        Trial types that are neither condition; each is a regressor of its own.
    sample_masks : list of numpy.ndarray or None
        Per run, the volumes to fit (None: all): ``load_confounds`` leaves out
        fMRIPrep's non-steady-state volumes (and, with ``scrub``, high-motion ones).
    """

    runs: list[RunFiles]
    images: list[nib.Nifti1Image]
    events: list[pd.DataFrame]
    confounds: list[pd.DataFrame] | None
    tr_s: float
    nuisance_trial_types: list[str]
    sample_masks: list[np.ndarray | None]

    @property
    def bold_paths(self) -> list[Path]:
        """The preprocessed BOLD file of every run."""
        return [run.bold for run in self.runs]


def require_same_runs(expected: Sequence[str | Path], found: Sequence[RunFiles]) -> None:
    """Refuse a job whose input BOLD files are not the ones the query layer finds now.

    Raises
    ------
    LayoutError
        If the dataset changed since the workflow listed its runs.
    """
    wanted = [Path(p) for p in expected]
    have = [run.bold for run in found]
    if [p.resolve() for p in wanted] != [p.resolve() for p in have]:
        raise LayoutError(
            f"the dataset lists the runs {[p.name for p in have]} but the workflow was "
            f"given {[p.name for p in wanted]}; did the dataset change during the run? "
            "Start the workflow again"
        )


def read_run_confounds(
    run: RunFiles, confounds: Mapping[str, Any], n_scans: int
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A run's confound regressors and volumes to fit, chosen by nilearn's ``load_confounds``.

    Parameters
    ----------
    run : RunFiles
        The run (its preprocessed BOLD names the confounds file).
    confounds : mapping
        ``analysis.confounds``: ``strategy`` and load_confounds' options.
    n_scans : int
        Volumes of the run.

    Returns
    -------
    table : pandas.DataFrame
        One row per volume, the regressors as float columns.
    sample_mask : numpy.ndarray or None
        Indices of the volumes to fit, None for all.

    Raises
    ------
    InputFileError
        If the confounds file is missing, lacks what the strategy needs, holds
        a value that is not a number, has another number of rows than the run
        has volumes, or leaves fewer than half of the volumes to fit.
    """
    from nilearn.interfaces.fmriprep import load_confounds

    path = run.confounds
    options = dict(confounds)
    strategy = tuple(options.pop("strategy"))
    if not path.is_file():
        raise InputFileError(
            path,
            f"does not exist; 'analysis.confounds' asks for the strategy {list(strategy)} "
            f"for the run '{run.bold.name}' (set 'analysis.confounds.strategy' to [] for "
            "no confounds)",
        )
    _numeric_table(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table, sample_mask = load_confounds(str(run.bold), strategy=strategy, **options)
    except (ValueError, KeyError, FileNotFoundError) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputFileError(
            path,
            f"cannot give the confounds of the strategy {list(strategy)} with "
            f"{options} (nilearn's load_confounds: {text})",
        ) from err
    if len(table) != n_scans:
        raise InputFileError(
            path,
            f"has {len(table)} rows but its run '{run.bold}' has {n_scans} volumes; a "
            "confounds file needs one row per volume (is the run, or the confounds file, "
            "from another acquisition or cut short?)",
        )
    missing = table.isna().to_numpy()
    if missing.any():
        row, column = np.argwhere(missing)[0]
        raise InputFileError(
            path,
            f"column '{table.columns[column]}' is n/a on line {row + 2}; only the first row "
            "may be n/a (derivatives), every other volume needs a value",
        )
    if sample_mask is not None:
        sample_mask = np.asarray(sample_mask, dtype=int)
        if len(sample_mask) < n_scans / 2:
            raise InputFileError(
                path,
                f"the strategy {list(strategy)} with {options} leaves {len(sample_mask)} of "
                f"the run's {n_scans} volumes to fit (non-steady-state and scrubbed volumes "
                "are left out); loosen fd_threshold / std_dvars_threshold or exclude the "
                "participant ('analysis.participants.exclude')",
            )
        if len(sample_mask) == n_scans:
            sample_mask = None
        else:
            logger.info(
                "'%s': %d of %d volumes fitted (the others are non-steady-state or scrubbed)",
                run.bold.name,
                len(sample_mask),
                n_scans,
            )
    return table.astype(float).reset_index(drop=True), sample_mask


def _numeric_table(path: Path) -> None:
    """Refuse a confounds file with a cell that is neither a number nor ``n/a``."""
    table = pd.read_csv(path, sep="\t", na_values="n/a", keep_default_na=True)
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputFileError(
                path,
                f"column '{column}' must hold numbers (or n/a), but line {line} has "
                f"{table[column].iloc[line - 2]!r}",
            )


def read_subject_runs(
    subject: str,
    bids_dir: str | Path,
    derivatives: str | Path,
    task: str,
    space: str,
    conditions: Mapping[str, Sequence[str]],
    confounds: Mapping[str, Any],
    expected_bold: Sequence[str | Path] | None = None,
) -> SubjectRuns:
    """Find a subject's runs with :func:`~empathy_fmri.io.layout.find_runs`, read and check them.

    Each preprocessed BOLD run must be readable to its end, 4D, with the TR of
    its sidecar in its header and the grid of the subject's first run, and all
    runs must share one TR; each events file must hold every condition's
    trial types, with blocks that start before its run ends; the confounds
    must fit the run.

    Parameters
    ----------
    subject : str
        ``sub-`` prefixed label.
    bids_dir, derivatives : str or pathlib.Path
        The raw dataset and the fMRIPrep-style derivative.
    task, space : str
        Task and space labels.
    conditions : mapping
        ``analysis.conditions``: condition -> the study's trial types.
    confounds : mapping
        ``analysis.confounds``.
    expected_bold : sequence of path, optional
        The BOLD files the workflow gave the job; checked against what is found.

    Returns
    -------
    SubjectRuns

    Raises
    ------
    InputFileError, LayoutError
        Naming the file, and the column, trial type or count that is wrong.
    """
    runs = find_runs(bids_dir, derivatives, subject, task, space)
    if expected_bold is not None:
        require_same_runs(expected_bold, runs)
    trs = [repetition_time(run, bids_dir, derivatives) for run in runs]
    if len(set(trs)) > 1:
        shown = ", ".join(f"{run.bold.name}: {tr:g} s" for run, tr in zip(runs, trs, strict=True))
        raise LayoutError(
            f"{subject}'s runs have different repetition times ({shown}); one GLM over "
            "all runs needs one TR"
        )
    tr_s = trs[0]
    images = [check_bold(run.bold, tr_s, source="its sidecar's RepetitionTime") for run in runs]
    first = images[0]
    for run, img in zip(runs[1:], images[1:], strict=True):
        if img.shape[:3] != first.shape[:3] or not np.allclose(img.affine, first.affine, atol=1e-3):
            raise InputFileError(
                run.bold,
                f"has volumes of shape {img.shape[:3]} and the affine "
                f"{img.affine.round(3).tolist()}, but the subject's first run "
                f"'{runs[0].bold}' has {first.shape[:3]} and {first.affine.round(3).tolist()}; "
                "all runs of a subject must share one grid (the same 'analysis.space')",
            )
    events, nuisance = [], []
    for run, img in zip(runs, images, strict=True):
        table = read_events(run.events, conditions)
        nuisance += [t for t in table["trial_type"].unique() if t not in conditions]
        nuisance = list(dict.fromkeys(nuisance))
        _check_event_times(run, table, int(img.shape[3]), tr_s)
        events.append(table)
    if nuisance:
        logger.info(
            "%s: trial types %s are neither needle nor swab ('analysis.conditions'); each is "
            "a nuisance regressor of its own",
            subject,
            nuisance,
        )
    tables, masks = None, [None] * len(runs)
    if confounds["strategy"]:
        read = [
            read_run_confounds(run, confounds, int(img.shape[3]))
            for run, img in zip(runs, images, strict=True)
        ]
        tables, masks = [t for t, _ in read], [m for _, m in read]
    return SubjectRuns(runs, images, events, tables, tr_s, nuisance, masks)


def _check_event_times(run: RunFiles, table: pd.DataFrame, n_scans: int, tr_s: float) -> None:
    duration = n_scans * tr_s
    late = table["onset"] >= duration - 1e-6
    if late.any():
        raise InputFileError(
            run.events,
            f"has {int(late.sum())} event(s) that start after its run has ended: the last "
            f"onset is {table['onset'].max():g} s, but the run '{run.bold}' has {n_scans} "
            f"volumes of {tr_s:g} s, so it ends at {duration:g} s; is the run cut short, "
            "or are these the events of another run?",
        )
    ends = table["onset"] + table["duration"]
    if (ends > duration + 1e-6).any():
        logger.warning(
            "events file '%s' has %d event(s) that end after its run '%s' has ended "
            "(%d volumes, %g s; the last event ends at %g s): the model has only their "
            "start",
            run.events,
            int((ends > duration + 1e-6).sum()),
            run.bold,
            n_scans,
            duration,
            ends.max(),
        )
