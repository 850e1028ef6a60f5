"""Where a study's files are: raw BIDS plus an fMRIPrep-style derivative, one query layer.

The analysis reads, per run, the preprocessed BOLD of a derivative folder
laid out as fMRIPrep writes it (``sub-XX/[ses-YY/]func/<entities>_space-S
[_res-R]_desc-preproc_bold.nii.gz``, its brain mask, and
``<entities>_desc-confounds_timeseries.tsv``), and the run's
``events.tsv`` from the raw dataset. The same names are written by the
simulator (:func:`preproc_bold_path` and friends) and found in a lab's data
(:func:`find_runs`, with nilearn's BIDS helpers), so one reading path serves
both.

The repetition time is what the data say: the ``RepetitionTime`` of the
preprocessed BOLD's sidecar, else the raw BOLD's, following BIDS
inheritance (:func:`sidecar_metadata`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nilearn.interfaces.bids import get_bids_files, parse_bids_filename

from empathy_fmri.io.errors import InputFileError, LayoutError

__all__ = [
    "FMRIPREP_FOLDER",
    "SIMULATED_SPACE",
    "LayoutError",
    "RunFiles",
    "brain_mask_path",
    "fmriprep_confounds_path",
    "find_runs",
    "find_spaces",
    "preproc_bold_path",
    "raw_bold_path",
    "raw_events_path",
    "repetition_time",
    "run_key",
    "sidecar_metadata",
    "subjects_with_runs",
]

#: Derivative folder of the preprocessed data, relative to the raw dataset.
FMRIPREP_FOLDER = Path("derivatives") / "fmriprep"

#: The template the simulator works in: nilearn's MNI152 is the asymmetric
#: ICBM152 2009, release a (fMRIPrep's default is release c).
SIMULATED_SPACE = "MNI152NLin2009aAsym"

#: Entities of a functional file before ``space`` (fMRIPrep keeps their order).
_RUN_ENTITIES = ("sub", "ses", "task", "acq", "ce", "rec", "dir", "run", "echo")


@dataclass(frozen=True)
class RunFiles:
    """The files of one functional run.

    Attributes
    ----------
    key : str
        The run's entities as in its file names, e.g. ``sub-01_task-empathy_run-1``.
    bold : pathlib.Path
        Preprocessed BOLD (``desc-preproc``) in the analysis space.
    events : pathlib.Path
        The run's ``events.tsv`` in the raw dataset.
    confounds : pathlib.Path
        fMRIPrep's ``desc-confounds_timeseries.tsv`` (may not exist).
    mask : pathlib.Path or None
        The derivative's brain mask of the run, None where there is none.
    """

    key: str
    bold: Path
    events: Path
    confounds: Path
    mask: Path | None

    @property
    def label(self) -> str:
        """The run's entities without the subject, e.g. ``task-empathy_run-1``."""
        return self.key.split("_", 1)[1]


def run_key(subject: str, task: str, run: int | str, session: str | None = None) -> str:
    """Entity string of a run, ``sub-XX[_ses-YY]_task-T_run-N``."""
    ses = f"_ses-{session}" if session else ""
    return f"{subject}{ses}_task-{task}_run-{run}"


def _func_folder(root: Path, key: str) -> Path:
    """``sub-XX/[ses-YY/]func`` of a run key (the subject part may be a wildcard)."""
    parts = key.split("_")
    folder = root / parts[0]
    sessions = [p for p in parts[1:] if p.startswith("ses-")]
    if sessions:
        folder = folder / sessions[0]
    return folder / "func"


def raw_bold_path(bids_dir: str | Path, key: str) -> Path:
    """The raw BOLD of a run: ``sub-XX/[ses-YY/]func/<key>_bold.nii.gz``."""
    return _func_folder(Path(bids_dir), key) / f"{key}_bold.nii.gz"


def raw_events_path(bids_dir: str | Path, key: str) -> Path:
    """The events of a run in the raw dataset: ``.../func/<key>_events.tsv``."""
    return _func_folder(Path(bids_dir), key) / f"{key}_events.tsv"


def preproc_bold_path(derivatives: str | Path, key: str, space: str) -> Path:
    """fMRIPrep's preprocessed BOLD: ``.../func/<key>_space-S_desc-preproc_bold.nii.gz``."""
    name = f"{key}_space-{space}_desc-preproc_bold.nii.gz"
    return _func_folder(Path(derivatives), key) / name


def brain_mask_path(derivatives: str | Path, key: str, space: str) -> Path:
    """fMRIPrep's brain mask of a run: ``.../func/<key>_space-S_desc-brain_mask.nii.gz``."""
    return _func_folder(Path(derivatives), key) / f"{key}_space-{space}_desc-brain_mask.nii.gz"


def fmriprep_confounds_path(derivatives: str | Path, key: str) -> Path:
    """fMRIPrep's confounds of a run: ``.../func/<key>_desc-confounds_timeseries.tsv``."""
    return _func_folder(Path(derivatives), key) / f"{key}_desc-confounds_timeseries.tsv"


def _key_of(path: str | Path) -> str:
    """The entities before ``space`` of a functional file's name, as a key."""
    entities = parse_bids_filename(str(path))["entities"]
    return "_".join(f"{name}-{entities[name]}" for name in _RUN_ENTITIES if name in entities)


def _run_order(key: str) -> tuple[Any, ...]:
    """Sort key of runs: session, then run number (numerically), then the rest."""
    entities = dict(part.split("-", 1) for part in key.split("_"))
    run = entities.get("run", "")
    return (entities.get("ses", ""), int(run) if run.isdigit() else 0, run, key)


def _preproc_bolds(derivatives: Path, subject: str, task: str, space: str) -> list[str]:
    return get_bids_files(
        str(derivatives),
        file_tag="bold",
        file_type="nii.gz",
        sub_label=subject[4:],
        modality_folder="func",
        filters=[("task", task), ("space", space), ("desc", "preproc")],
    )


def find_spaces(derivatives: str | Path, task: str) -> list[str]:
    """The ``space`` labels of the preprocessed BOLD runs of ``task`` in a derivative."""
    files = get_bids_files(
        str(derivatives),
        file_tag="bold",
        file_type="nii.gz",
        modality_folder="func",
        filters=[("task", task), ("desc", "preproc")],
    )
    spaces = {parse_bids_filename(f)["entities"].get("space") for f in files}
    return sorted(s for s in spaces if s)


def find_runs(
    bids_dir: str | Path, derivatives: str | Path, subject: str, task: str, space: str
) -> list[RunFiles]:
    """A subject's runs of ``task``: preprocessed BOLD, raw events, confounds and mask.

    Parameters
    ----------
    bids_dir : str or pathlib.Path
        The raw BIDS dataset (events).
    derivatives : str or pathlib.Path
        The fMRIPrep-style derivative folder (preprocessed BOLD, masks, confounds).
    subject : str
        ``sub-`` prefixed label.
    task : str
        Task label.
    space : str
        Space label of the preprocessed BOLD (e.g. ``MNI152NLin2009cAsym``).

    Returns
    -------
    list of RunFiles
        In session and run order.

    Raises
    ------
    LayoutError
        If the subject has no preprocessed BOLD of the task in that space
        (the message says what raw BOLD and which spaces there are: the
        analysis never falls back on raw data), more than one per run (e.g.
        two resolutions), or a run without its ``events.tsv``.
    """
    bids_dir, derivatives = Path(bids_dir), Path(derivatives)
    files = _preproc_bolds(derivatives, subject, task, space)
    if not files:
        raw = get_bids_files(
            str(bids_dir),
            file_tag="bold",
            file_type="nii*",
            sub_label=subject[4:],
            modality_folder="func",
            filters=[("task", task)],
        )
        spaces = find_spaces(derivatives, task) if derivatives.is_dir() else []
        where = (
            f"'{derivatives}' does not exist"
            if not derivatives.is_dir()
            else f"'{derivatives}' has preprocessed runs of task '{task}' only in the "
            f"space(s) {spaces}"
            if spaces
            else f"'{derivatives}' has none of task '{task}'"
        )
        raw_note = (
            f"; the raw dataset has {len(raw)} BOLD run(s) of it, which are not analysed "
            "unpreprocessed: run fMRIPrep (or point 'analysis.derivatives' at its output)"
            if raw
            else ""
        )
        raise LayoutError(
            f"{subject} has no preprocessed BOLD of task '{task}' in space '{space}' "
            f"(expected {subject}/[ses-*/]func/{subject}_[ses-*_]task-{task}_[run-*_]"
            f"space-{space}_desc-preproc_bold.nii.gz): {where}{raw_note}"
        )
    by_key: dict[str, list[str]] = {}
    for path in files:
        by_key.setdefault(_key_of(path), []).append(path)
    runs = []
    for key in sorted(by_key, key=_run_order):
        found = sorted(by_key[key])
        if len(found) > 1:
            raise LayoutError(
                f"run {key} has {len(found)} preprocessed BOLD files in space '{space}' "
                f"({', '.join(Path(f).name for f in found)}); keep one (e.g. one resolution) "
                "or set 'analysis.space' to tell them apart"
            )
        bold = Path(found[0])
        events = raw_events_path(bids_dir, key)
        if not events.is_file():
            raise LayoutError(
                f"run {key} has preprocessed BOLD '{bold}' but no events file '{events}' "
                "in the raw dataset ('analysis.bids_dir')"
            )
        mask = bold.with_name(bold.name.replace("_desc-preproc_bold.", "_desc-brain_mask."))
        runs.append(
            RunFiles(
                key=key,
                bold=bold,
                events=events,
                confounds=bold.parent / f"{key}_desc-confounds_timeseries.tsv",
                mask=mask if mask.is_file() else None,
            )
        )
    return runs


_ENTITY = re.compile(r"([a-zA-Z0-9]+)-([a-zA-Z0-9]+)")


def _entities(name: str) -> tuple[dict[str, str], str]:
    """Entities and suffix of a file name (``sub-01_task-a_bold.json`` -> {...}, 'bold')."""
    stem = name.split(".", 1)[0]
    parts = stem.split("_")
    entities = dict(m.groups() for p in parts[:-1] if (m := _ENTITY.fullmatch(p)))
    return entities, parts[-1]


def sidecar_metadata(path: str | Path, root: str | Path) -> dict[str, Any]:
    """A file's JSON metadata under the BIDS inheritance principle.

    Every ``.json`` from ``root`` down to the file's folder whose suffix is the
    file's and whose entities are a subset of the file's applies; deeper (more
    specific) files override shallower ones.

    Parameters
    ----------
    path : str or pathlib.Path
        A data file inside ``root``.
    root : str or pathlib.Path
        The dataset (or derivative) root.

    Returns
    -------
    dict
        The merged metadata; empty if no sidecar applies.

    Raises
    ------
    InputFileError
        If a sidecar that applies is not valid JSON.
    """
    path, root = Path(path), Path(root)
    entities, suffix = _entities(path.name)
    folders = [root]
    for part in path.parent.relative_to(root).parts:
        folders.append(folders[-1] / part)
    merged: dict[str, Any] = {}
    for folder in folders:
        candidates = []
        for sidecar in sorted(folder.glob(f"*_{suffix}.json")) + sorted(
            folder.glob(f"{suffix}.json")
        ):
            side_entities, side_suffix = _entities(sidecar.name)
            if side_suffix != suffix or any(entities.get(k) != v for k, v in side_entities.items()):
                continue
            candidates.append((len(side_entities), sidecar))
        for _, sidecar in sorted(candidates):
            try:
                merged.update(json.loads(sidecar.read_text()))
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise InputFileError(sidecar, f"is not valid JSON ({err})") from err
    return merged


def repetition_time(run: RunFiles, bids_dir: str | Path, derivatives: str | Path) -> float:
    """The run's ``RepetitionTime`` (s): from the preprocessed BOLD's sidecars, else the raw's.

    Raises
    ------
    LayoutError
        If neither the derivative's nor the raw dataset's sidecars give one.
    """
    for data, root in (
        (run.bold, Path(derivatives)),
        (raw_bold_path(bids_dir, run.key), Path(bids_dir)),
    ):
        metadata = sidecar_metadata(data, root)
        if "RepetitionTime" in metadata:
            value = metadata["RepetitionTime"]
            if not isinstance(value, int | float) or value <= 0:
                raise LayoutError(
                    f"the sidecar of '{data}' gives RepetitionTime {value!r}; expected a "
                    "positive number of seconds"
                )
            return float(value)
    raise LayoutError(
        f"run {run.key} has no RepetitionTime in a sidecar of '{run.bold}' or of the raw "
        f"BOLD (BIDS requires it, e.g. in task-<label>_bold.json at the dataset root)"
    )


def subjects_with_runs(
    bids_dir: str | Path,
    derivatives: str | Path,
    subjects: Sequence[str],
    task: str,
    space: str,
) -> dict[str, list[RunFiles]]:
    """:func:`find_runs` of every subject, in the subjects' order."""
    return {s: find_runs(bids_dir, derivatives, s, task, space) for s in subjects}
