"""Every bad input named (issue 13): each input file is checked where it is read.

Each case builds a tiny BIDS run (8 mm MNI grid, 62 volumes) in ``tmp_path``,
laid out as fMRIPrep writes its derivatives (raw events and TR sidecar,
``derivatives/fmriprep`` preprocessed BOLD and confounds), spoils one file
and calls the job function. A bad file must raise an
:class:`InputFileError` whose one-paragraph message names the file and the
column, subject or trial type involved, with no output written; a doubtful
one must be logged as a warning that names it.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import yaml

from empathy_fmri.anatomy.template import load_anatomy
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.evaluation.conclusion import bottom_line_text
from empathy_fmri.io.atomic import atomic_path, write_tsv
from empathy_fmri.io.bids import (
    STATISTICS,
    bold_image,
    design_matrix_path,
    statmap_path,
)
from empathy_fmri.io.errors import InputFileError, LayoutError
from empathy_fmri.io.layout import (
    FMRIPREP_FOLDER,
    SIMULATED_SPACE,
    fmriprep_confounds_path,
    preproc_bold_path,
    raw_events_path,
    run_key,
)
from empathy_fmri.io.stale_temporaries import (
    removal_message,
    remove_stale_temporaries,
    stale_temporaries,
)
from empathy_fmri.jobs.brain_behaviour import run_brain_behaviour
from empathy_fmri.jobs.first_level import run_first_level, write_participants_table
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.roi_contrasts import run_roi_glm
from empathy_fmri.jobs.warnings_record import NO_WARNINGS, run_warnings_record
from empathy_fmri.task.conditions import CONDITIONS, CONTRASTS

TR_S = 2.0
N_SCANS = 62  # 10 s lead-in, 4 blocks of 16 s with 12 s rests, 14 s lead-out: 124 s
ONSETS = (10.0, 38.0, 66.0, 94.0)
MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
SUBJECT, TASK = "sub-01", "empathy"


@dataclasses.dataclass
class Subject:
    """One subject's BIDS runs and the outputs of its first-level job."""

    root: Path
    out: Path
    n_runs: int = 1

    @property
    def source(self) -> dict[str, str]:
        return {
            "bids_dir": str(self.root),
            "derivatives": str(self.root / FMRIPREP_FOLDER),
            "task": TASK,
            "space": SIMULATED_SPACE,
        }

    def bold(self, run: int = 1) -> Path:
        key = run_key(SUBJECT, TASK, run)
        return preproc_bold_path(self.root / FMRIPREP_FOLDER, key, SIMULATED_SPACE)

    def events(self, run: int = 1) -> Path:
        return raw_events_path(self.root, run_key(SUBJECT, TASK, run))

    def confounds(self, run: int = 1) -> Path:
        return fmriprep_confounds_path(self.root / FMRIPREP_FOLDER, run_key(SUBJECT, TASK, run))

    def sidecar(self) -> Path:
        return self.root / f"task-{TASK}_bold.json"

    def runs(self) -> range:
        return range(1, self.n_runs + 1)

    @property
    def statmaps(self) -> dict[str, dict[str, Path]]:
        return {
            contrast: {
                stat: statmap_path(self.out, SUBJECT, TASK, contrast, stat) for stat in STATISTICS
            }
            for contrast in CONTRASTS
        }

    @property
    def designs(self) -> tuple[Path, Path]:
        return (
            design_matrix_path(self.out, SUBJECT, TASK, "tsv"),
            design_matrix_path(self.out, SUBJECT, TASK, "png"),
        )

    def outputs(self) -> list[Path]:
        maps = [path for stats in self.statmaps.values() for path in stats.values()]
        return maps + list(self.designs) + [self.inputs_json]

    @property
    def inputs_json(self) -> Path:
        return self.out / SUBJECT / f"{SUBJECT}_task-{TASK}_desc-inputs.json"

    def run_first_level(self, analysis: AnalysisConfig | None = None) -> None:
        run_first_level(
            SUBJECT,
            self.source,
            analysis or AnalysisConfig(),
            self.statmaps,
            *self.designs,
            self.inputs_json,
        )


def write_bold(path: Path, n_scans: int = N_SCANS, tr_s: float = TR_S, seed: int = 0) -> None:
    anatomy = load_anatomy(8)
    rng = np.random.default_rng(seed)
    data = 1000.0 + 10.0 * rng.standard_normal((n_scans, int(anatomy.brain_mask.sum())))
    path.parent.mkdir(parents=True, exist_ok=True)
    bold_image(data, anatomy.brain_mask, anatomy.affine, tr_s).to_filename(path)


def write_events(path: Path, onsets: tuple[float, ...] = ONSETS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    trial_types = [CONDITIONS[k % 2] for k in range(len(onsets))]
    pd.DataFrame({"onset": onsets, "duration": 16.0, "trial_type": trial_types}).to_csv(
        path, sep="\t", index=False
    )


def write_confounds(path: Path, n_rows: int = N_SCANS, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(0.01 * rng.standard_normal((n_rows, len(MOTION))), columns=MOTION)
    table["framewise_displacement"] = rng.random(n_rows)
    table.loc[0, "framewise_displacement"] = np.nan
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")


def edit_tsv(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Rewrite a TSV after ``change`` (which edits the all-text table in place or returns one)."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    changed = change(table)
    (table if changed is None else changed).to_csv(path, sep="\t", index=False)


@pytest.fixture
def subject(tmp_path: Path) -> Subject:
    """A valid one-run subject."""
    made = Subject(tmp_path / "bids", tmp_path / "glm")
    made.sidecar().parent.mkdir(parents=True, exist_ok=True)
    made.sidecar().write_text(json.dumps({"RepetitionTime": TR_S, "TaskName": TASK}))
    write_bold(made.bold())
    write_events(made.events())
    write_confounds(made.confounds())
    return made


# --- the spoilers: each breaks one thing of a valid subject -------------------------------


def truncated_bold(s: Subject) -> None:
    raw = s.bold().read_bytes()
    s.bold().write_bytes(raw[: len(raw) // 2])


def fewer_volumes_than_confound_rows(s: Subject) -> None:
    write_bold(s.bold(), n_scans=N_SCANS - 12)


def non_numeric_confound(s: Subject) -> None:
    def spoil(table: pd.DataFrame) -> None:
        table.loc[5, "rot_y"] = "0.01.2"

    edit_tsv(s.confounds(), spoil)


def missing_confound_mid_run(s: Subject) -> None:
    def spoil(table: pd.DataFrame) -> None:
        table.loc[5, "rot_y"] = "n/a"

    edit_tsv(s.confounds(), spoil)


def capitalised_trial_type(s: Subject) -> None:
    edit_tsv(s.events(), lambda t: t.replace({"trial_type": {"needle": "Needle"}}))


def other_tr(s: Subject) -> None:
    write_bold(s.bold(), tr_s=2.5)


def no_tr_in_sidecars(s: Subject) -> None:
    s.sidecar().write_text(json.dumps({"TaskName": TASK}))


def no_preprocessed_bold(s: Subject) -> None:
    raw = s.root / SUBJECT / "func" / f"{run_key(SUBJECT, TASK, 1)}_bold.nii.gz"
    raw.parent.mkdir(parents=True, exist_ok=True)
    s.bold().rename(raw)


def missing_confounds_file(s: Subject) -> None:
    s.confounds().unlink()


def tr_in_milliseconds(s: Subject) -> None:
    img = nib.load(s.bold())
    img = nib.Nifti1Image(np.asanyarray(img.dataobj), img.affine, img.header)
    img.header.set_xyzt_units("mm", "msec")
    img.header.set_zooms((*img.header.get_zooms()[:3], 2500.0))
    img.to_filename(s.bold())


def shortened_run(s: Subject) -> None:
    write_bold(s.bold(), n_scans=40)
    write_confounds(s.confounds(), n_rows=40)


def confounds_missing_column(s: Subject) -> None:
    edit_tsv(s.confounds(), lambda t: t.drop(columns="rot_z"))


def events_missing_onset(s: Subject) -> None:
    edit_tsv(s.events(), lambda t: t.drop(columns="onset"))


def bold_3d(s: Subject) -> None:
    img = nib.load(s.bold())
    nib.Nifti1Image(np.asanyarray(img.dataobj[..., 0]), img.affine).to_filename(s.bold())


def bold_not_nifti(s: Subject) -> None:
    with gzip.open(s.bold(), "wt") as file:
        file.write("not an image\n" * 100)


def empty_events(s: Subject) -> None:
    s.events().write_text("")


def header_only_events(s: Subject) -> None:
    s.events().write_text("onset\tduration\ttrial_type\n")


def nan_onset(s: Subject) -> None:
    def spoil(table: pd.DataFrame) -> None:
        table.loc[1, "onset"] = "n/a"

    edit_tsv(s.events(), spoil)


def negative_duration(s: Subject) -> None:
    def spoil(table: pd.DataFrame) -> None:
        table.loc[2, "duration"] = "-16"

    edit_tsv(s.events(), spoil)


def missing_trial_type(s: Subject) -> None:
    def spoil(table: pd.DataFrame) -> None:
        table.loc[3, "trial_type"] = "n/a"

    edit_tsv(s.events(), spoil)


def comma_separated_events(s: Subject) -> None:
    table = pd.read_csv(s.events(), sep="\t")
    table.to_csv(s.events(), index=False)


def more_confound_rows_than_volumes(s: Subject) -> None:
    write_confounds(s.confounds(), n_rows=N_SCANS + 3)


def second_run_on_another_grid(s: Subject) -> None:
    s.n_runs = 2
    anatomy = load_anatomy(8)
    img = nib.load(s.bold())
    data = np.asanyarray(img.dataobj)[:-1]  # one slab fewer along x
    nib.Nifti1Image(data, anatomy.affine, img.header).to_filename(s.bold(2))
    write_events(s.events(2))
    write_confounds(s.confounds(2))


#: (spoiler, expected message parts). "{bold}", "{events}" and "{confounds}"
#: stand for the file names of run 1; every message must name at least one file.
ERROR_CASES = [
    (truncated_bold, ["{bold}", "truncated", "62 volumes", "EOFError"]),
    (fewer_volumes_than_confound_rows, ["{confounds}", "{bold}", "62 rows", "50 volumes"]),
    (non_numeric_confound, ["{confounds}", "'rot_y'", "line 7", "'0.01.2'"]),
    (missing_confound_mid_run, ["{confounds}", "'rot_y'", "n/a on line 7", "only the first row"]),
    (
        capitalised_trial_type,
        ["{events}", "['needle']", "'Needle'", "case-sensitive", "analysis.conditions"],
    ),
    (shortened_run, ["{events}", "{bold}", "40 volumes", "last onset is 94 s", "80 s"]),
    (confounds_missing_column, ["{confounds}", "['motion']", "load_confounds"]),
    (missing_confounds_file, ["{confounds}", "does not exist", "analysis.confounds.strategy"]),
    (events_missing_onset, ["{events}", "['onset']", "duration", "trial_type"]),
    (bold_3d, ["{bold}", "3D image", "4D"]),
    (bold_not_nifti, ["{bold}", "cannot be read as a NIfTI image"]),
    (empty_events, ["{events}", "is empty"]),
    (header_only_events, ["{events}", "holds no event", "'needle'"]),
    (nan_onset, ["{events}", "'onset'", "line 3", "n/a"]),
    (negative_duration, ["{events}", "'duration'", "line 4", "-16"]),
    (missing_trial_type, ["{events}", "'trial_type'", "line(s) 5"]),
    (comma_separated_events, ["{events}", "comma-separated"]),
    (more_confound_rows_than_volumes, ["{confounds}", "65 rows", "62 volumes"]),
    (second_run_on_another_grid, ["run-2_space-", "run-1_space-", "one grid"]),
]

#: Cases where the dataset lacks a file or a fact: a LayoutError naming the subject and path.
LAYOUT_CASES = [
    (
        no_tr_in_sidecars,
        ["sub-01_task-empathy_run-1", "no RepetitionTime", "task-<label>_bold.json"],
    ),
    (
        no_preprocessed_bold,
        [
            "sub-01",
            "no preprocessed BOLD",
            "space 'MNI152NLin2009aAsym'",
            "1 BOLD run(s)",
            "not analysed unpreprocessed",
        ],
    ),
]


def _expected(parts: list[str], s: Subject) -> list[str]:
    names = {"bold": s.bold().name, "events": s.events().name, "confounds": s.confounds().name}
    return [part.format(**names) for part in parts]


@pytest.mark.parametrize(("spoil", "parts"), ERROR_CASES, ids=[c[0].__name__ for c in ERROR_CASES])
def test_bad_run_is_named_and_nothing_is_written(subject, spoil, parts):
    spoil(subject)
    with pytest.raises(InputFileError) as caught:
        subject.run_first_level()
    message = str(caught.value)
    for part in _expected(parts, subject):
        assert part in message, f"{part!r} not in: {message}"
    assert "\n" not in message
    assert caught.value.path.name in message
    assert not [path for path in subject.outputs() if path.exists()]


@pytest.mark.parametrize(
    ("spoil", "parts"), LAYOUT_CASES, ids=[c[0].__name__ for c in LAYOUT_CASES]
)
def test_missing_file_or_fact_is_named_and_nothing_is_written(subject, spoil, parts):
    spoil(subject)
    with pytest.raises(LayoutError) as caught:
        subject.run_first_level()
    message = str(caught.value)
    for part in parts:
        assert part in message, f"{part!r} not in: {message}"
    assert "\n" not in message
    assert not [path for path in subject.outputs() if path.exists()]


@pytest.mark.parametrize(
    ("spoil", "shown"), [(other_tr, "2.5 s"), (tr_in_milliseconds, "2500 msec")]
)
def test_header_tr_other_than_the_sidecar_is_a_named_warning(subject, spoil, shown, caplog):
    spoil(subject)
    with caplog.at_level(logging.WARNING):
        subject.run_first_level()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(subject.bold().name in w and shown in w and "uses 2 s" in w for w in warnings)
    assert all(path.exists() for path in subject.outputs())


@pytest.mark.parametrize(
    "spoil",
    [capitalised_trial_type, shortened_run, non_numeric_confound],
    ids=["trial_type", "shortened", "confounds"],
)
def test_roi_glm_job_checks_its_runs_too(subject, spoil, tmp_path):
    spoil(subject)
    table = tmp_path / "roi_glm.tsv"
    with pytest.raises(InputFileError) as caught:
        run_roi_glm(
            "sub-01",
            subject.source,
            tmp_path / "centres.tsv",
            tmp_path / "group_z.nii.gz",
            0.3,
            AnalysisConfig(),
            table,
        )
    # the same one-paragraph message as the first level's, naming the same file
    for part in _expected(dict(ERROR_CASES)[spoil], subject):
        assert part in str(caught.value), part
    assert not table.exists()


def fixation_trial_type(s: Subject) -> None:
    def add_fixation(table: pd.DataFrame) -> pd.DataFrame:
        extra = pd.DataFrame({"onset": ["2.0"], "duration": ["4.0"], "trial_type": ["fixation"]})
        return pd.concat([table, extra], ignore_index=True)

    edit_tsv(s.events(), add_fixation)


def block_past_the_end(s: Subject) -> None:
    write_bold(s.bold(), n_scans=52)  # the last block (94-110 s) ends after 104 s
    write_confounds(s.confounds(), n_rows=52)


def test_extra_trial_type_is_a_named_nuisance_regressor(subject, caplog):
    fixation_trial_type(subject)
    with caplog.at_level(logging.WARNING):
        subject.run_first_level()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(subject.events().name in w and "'fixation'" in w for w in warnings), warnings
    assert all(path.exists() for path in subject.outputs())
    design = pd.read_csv(subject.designs[0], sep="\t")
    assert "fixation" in design.columns
    # The contrasts are of needle and swab only; the extra type is in none.
    terms = {t for formula in CONTRASTS.values() for t in re.findall(r"[A-Za-z_]+", formula)}
    assert terms == set(CONDITIONS)


def test_block_past_the_end_is_a_named_warning(subject, caplog):
    block_past_the_end(subject)
    with caplog.at_level(logging.WARNING):
        subject.run_first_level()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(subject.events().name in w and "52 volumes" in w for w in warnings), warnings
    assert all(path.exists() for path in subject.outputs())


# --- brain-behaviour: the phenotype file -------------------------------------------------

SUBJECTS = [f"sub-{i:02d}" for i in range(1, 9)]
SCORES = ["willingness_to_harm", "D", "U"]


def make_stats_inputs(tmp_path: Path) -> dict[str, Path]:
    """ROI table and phenotype of 8 subjects, and the brain-behaviour job's outputs."""
    rng = np.random.default_rng(5)
    roi = pd.DataFrame(
        [
            {
                "participant_id": s,
                "roi": r,
                "selection": "independent",
                "needle_minus_swab": rng.normal(),
            }
            for s in SUBJECTS
            for r in ("AI_L", "aMCC")
        ]
    )
    roi_path = tmp_path / "roi_contrasts.tsv"
    roi.to_csv(roi_path, sep="\t", index=False)
    phenotype = pd.DataFrame(
        {
            "participant_id": SUBJECTS,
            **{score: rng.random(len(SUBJECTS)).round(3) for score in SCORES},
        }
    )
    phenotype_path = tmp_path / "bids" / "phenotype" / "moral_dilemmas.tsv"
    phenotype_path.parent.mkdir(parents=True)
    phenotype.to_csv(phenotype_path, sep="\t", index=False)
    return {
        "roi": roi_path,
        "phenotype": phenotype_path,
        "table": tmp_path / "stats" / "brain_behaviour.tsv",
        "json": tmp_path / "stats" / "brain_behaviour.json",
    }


@pytest.fixture
def stats_inputs(tmp_path: Path) -> dict[str, Path]:
    return make_stats_inputs(tmp_path)


def _run_stats(paths: dict[str, Path]) -> None:
    analysis = AnalysisConfig(n_permutations_stats=99, n_bootstrap=99)
    run_brain_behaviour(
        str(paths["roi"]),
        str(paths["phenotype"]),
        analysis,
        1,
        str(paths["table"]),
        str(paths["json"]),
        "0" * 12,
    )


def test_subject_without_phenotype_is_named_and_listed(stats_inputs, caplog):
    edit_tsv(stats_inputs["phenotype"], lambda t: t[t["participant_id"] != "sub-06"])
    with caplog.at_level(logging.WARNING):
        _run_stats(stats_inputs)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("sub-06" in w and "moral_dilemmas.tsv" in w for w in warnings), warnings
    payload = json.loads(stats_inputs["json"].read_text())
    assert payload["subjects_without_phenotype"] == ["sub-06"]
    assert {r["n"] for r in payload["results"]} == {len(SUBJECTS) - 1}


def test_missing_score_is_named_and_listed(stats_inputs, caplog):
    def spoil(table: pd.DataFrame) -> None:
        table.loc[table["participant_id"] == "sub-02", "U"] = "n/a"

    edit_tsv(stats_inputs["phenotype"], spoil)
    with caplog.at_level(logging.WARNING):
        _run_stats(stats_inputs)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("sub-02" in w and "'U'" in w for w in warnings), warnings
    payload = json.loads(stats_inputs["json"].read_text())
    assert payload["subjects_without_score"] == {
        "willingness_to_harm": [],
        "D": [],
        "U": ["sub-02"],
    }


def test_labels_without_prefix_match_the_subjects(stats_inputs):
    edit_tsv(
        stats_inputs["phenotype"],
        lambda t: t.assign(participant_id=t["participant_id"].str.removeprefix("sub-")),
    )
    _run_stats(stats_inputs)
    assert json.loads(stats_inputs["json"].read_text())["subjects_without_phenotype"] == []


def non_numeric_score(table: pd.DataFrame) -> None:
    table.loc[table["participant_id"] == "sub-03", "D"] = "high"


def no_participant_id(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={"participant_id": "subject"})


def no_score_column(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns="willingness_to_harm")


def repeated_participant(table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([table, table.iloc[[3]]], ignore_index=True)


def other_labels(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(participant_id=[f"P{k}" for k in range(len(table))])


PHENOTYPE_CASES = [
    (non_numeric_score, ["'D'", "sub-03", "'high'"]),
    (no_participant_id, ["['participant_id']", "subject"]),
    (no_score_column, ["['willingness_to_harm']", "analysis.scores"]),
    (repeated_participant, ["sub-04", "more than one row"]),
    (other_labels, ["only 0 of the 8 subjects", "sub-01", "sub-P0"]),
]


@pytest.mark.parametrize(
    ("spoil", "parts"), PHENOTYPE_CASES, ids=[c[0].__name__ for c in PHENOTYPE_CASES]
)
def test_bad_phenotype_is_named_and_nothing_is_written(stats_inputs, spoil, parts):
    edit_tsv(stats_inputs["phenotype"], spoil)
    with pytest.raises(InputFileError) as caught:
        _run_stats(stats_inputs)
    message = str(caught.value)
    for part in ["moral_dilemmas.tsv", *parts]:
        assert part in message, f"{part!r} not in: {message}"
    assert not stats_inputs["table"].exists()
    assert not stats_inputs["json"].exists()


# --- the warnings record: every warning of a run, naming who or what ---------------------

#: The analysis section of config.yaml as written: 5 a-priori ROIs x 3 scores,
#: 5000 permutations, 2000 bootstrap resamples; at its 19 subjects nothing is
#: empty by construction (checked by test_a_clean_run_has_a_one_line_record).
DEFAULT_ANALYSIS = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())[
    "analysis"
]


def _record(
    tmp_path: Path,
    inputs: list[Path],
    listed: list[str],
    stats_json: Path,
    excluded: dict[str, str] | None = None,
    n_subjects: int = 19,
    **analysis: int,
) -> tuple[list[str], str]:
    """Run the participants-table and warnings-record jobs; return the items and the file."""
    table = tmp_path / "analysis" / "participants.tsv"
    write_participants_table(listed, excluded or {}, inputs, table)
    text = tmp_path / "warnings.md"
    items = run_warnings_record(
        table,
        inputs,
        stats_json,
        n_subjects,
        {**DEFAULT_ANALYSIS, **analysis},
        "bids/phenotype/moral_dilemmas.tsv",
        text,
        list(excluded or {}),
    )
    return items, text.read_text()


def _clean_stats(tmp_path: Path) -> Path:
    """The brain-behaviour JSON of a study with every phenotype row and score."""
    (tmp_path / "stats_run").mkdir()
    paths = make_stats_inputs(tmp_path / "stats_run")
    _run_stats(paths)
    return paths["json"]


#: Doubtful inputs the first level reads on, with what the record must say of them.
WARNING_CASES = [
    (other_tr, ["{bold}", "2.5 s in its header", "uses 2 s"]),
    (tr_in_milliseconds, ["{bold}", "2500 msec"]),
    (fixation_trial_type, ["{events}", "'fixation'", "nuisance regressor"]),
    (block_past_the_end, ["{events}", "52 volumes", "only their start"]),
]


@pytest.mark.parametrize(
    ("spoil", "parts"), WARNING_CASES, ids=[c[0].__name__ for c in WARNING_CASES]
)
def test_doubtful_input_is_named_in_the_warnings_record(subject, spoil, parts, tmp_path):
    spoil(subject)
    subject.run_first_level()
    recorded = json.loads(subject.inputs_json.read_text())["warnings"]
    items, text = _record(tmp_path, [subject.inputs_json], [SUBJECT], _clean_stats(tmp_path))
    # the job's warnings, and nothing else: the config and the participants are fine
    assert (
        items == [f"Input of {SUBJECT}: {w}" + ("" if w.endswith(".") else ".") for w in recorded]
        and items
    )
    assert any(all(part in item for part in _expected(parts, subject)) for item in items), items
    assert text == bottom_line_text(items)
    for part in _expected(parts, subject):
        assert part in text, part


def test_a_clean_run_has_a_one_line_record(subject, tmp_path):
    subject.run_first_level()
    assert json.loads(subject.inputs_json.read_text())["warnings"] == []
    items, text = _record(tmp_path, [subject.inputs_json], [SUBJECT], _clean_stats(tmp_path))
    assert items == [] and text == f"- {NO_WARNINGS}\n"


def test_excluded_participant_is_named_in_the_warnings_record(subject, tmp_path):
    subject.run_first_level()
    items, text = _record(
        tmp_path,
        [subject.inputs_json],
        [SUBJECT, "sub-02"],
        _clean_stats(tmp_path),
        excluded={"sub-02": "moved 3 mm in run 2."},
    )
    assert items == [
        "Left out of the analysis: sub-02 ('analysis.participants.exclude', "
        "reason: moved 3 mm in run 2); it is in the dataset but in no map, table "
        "or correlation of this run."
    ]
    assert "sub-02" in text and "moved 3 mm in run 2" in text


def test_a_participant_left_out_by_another_job_is_named_with_the_table():
    """A row of participants.tsv not analysed for another reason than the config's exclusion."""
    from empathy_fmri.jobs.warnings_record import warning_items

    table = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03"],
            "analysed": ["no", "yes", "no"],
            "reason": ["moved 3 mm", "n/a", "n/a"],
        }
    )
    assert warning_items([], table, [], {}, "moral_dilemmas.tsv", ["sub-01"]) == [
        "Left out of the analysis: sub-01 ('analysis.participants.exclude', reason: moved 3 "
        "mm); it is in the dataset but in no map, table or correlation of this run.",
        "Left out of the analysis: sub-03 (results/analysis/participants.tsv, reason: no "
        "reason given); it is in the dataset but in no map, table or correlation of this run.",
    ]


def test_participants_missing_from_a_correlation_are_named_in_the_record(
    subject, stats_inputs, tmp_path
):
    def spoil(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[table["participant_id"] == "sub-02", "U"] = "n/a"
        return table[table["participant_id"] != "sub-06"]

    edit_tsv(stats_inputs["phenotype"], spoil)
    _run_stats(stats_inputs)
    subject.run_first_level()
    items, _ = _record(tmp_path, [subject.inputs_json], [SUBJECT], stats_inputs["json"])
    assert [item.split(":")[0] for item in items] == [
        "Left out of every brain-behaviour correlation",
        "Left out of the correlations with 'U'",
    ]
    assert "sub-06" in items[0] and "'analysis.phenotype'" in items[0]
    assert "sub-02" in items[1] and "moral_dilemmas.tsv" in items[1]


#: Settings that leave results empty by construction: (analysis keys, N, what the record says).
CONFIG_WARNING_CASES = [
    # 1 / 100 x 15 pairs = 0.15 >= alpha: nothing can survive Holm
    (
        {"n_permutations_stats": 99},
        19,
        ["'analysis.n_permutations_stats'", "Holm", "15 ROI x score pairs", "at least 300"],
    ),
    # 1 / 5! x 15 = 0.125, and 2000 x 5^-4 resamples of one subject alike
    ({}, 5, ["'analysis.n_bootstrap' = 2000", "bootstrap confidence intervals", "n/a"]),
    # 1 / 300 x 15 = 0.05, not below alpha = 0.05: Holm's bound is exact
    ({"n_permutations_stats": 299}, 19, ["at least 300", "p_corrected >= 0.05"]),
]


@pytest.mark.parametrize(
    ("analysis", "n_subjects", "parts"),
    CONFIG_WARNING_CASES,
    ids=["few_permutations", "few_subjects", "holm_at_the_bound"],
)
def test_config_that_leaves_results_empty_is_named_in_the_record(
    subject, tmp_path, analysis, n_subjects, parts
):
    from empathy_fmri.config.checks import statistical_warnings

    subject.run_first_level()
    items, text = _record(
        tmp_path,
        [subject.inputs_json],
        [SUBJECT],
        _clean_stats(tmp_path),
        n_subjects=n_subjects,
        **analysis,
    )
    expected = statistical_warnings(n_subjects, {**DEFAULT_ANALYSIS, **analysis})
    assert items == [f"Configuration: {w}." for w in expected]
    assert any(all(part in item for part in parts) for item in items), items
    assert all(part in text for part in parts)
    # one permutation more and the bound is passed: no Holm warning
    if "n_permutations_stats" in analysis:
        assert not statistical_warnings(
            n_subjects, {**DEFAULT_ANALYSIS, "n_permutations_stats": 300}
        )


# --- interruption: a job stopped while it writes a result ---------------------------------

#: A job killed (SIGKILL) in the middle of an atomic write: its cleanup never runs.
KILLED_WRITE = """
import os, signal, sys
from empathy_fmri.io.atomic import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_text("roi\\tr\\nAI_L\\t0.")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _write_then(path: Path, stop: BaseException) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text("roi\tr\nAI_L\t0.")  # half a table
        raise stop


def stopped_by_an_error(path: Path, log: Path) -> None:
    with pytest.raises(OSError), log_to(log):
        _write_then(path, OSError(28, "No space left on device"))
    assert "job failed" in log.read_text() and "No space left" in log.read_text()


def stopped_by_ctrl_c(path: Path, log: Path) -> None:
    with pytest.raises(SystemExit) as stopped, log_to(log):
        _write_then(path, KeyboardInterrupt())
    assert stopped.value.code == 130 and "interrupted after" in log.read_text()


def killed(path: Path, log: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", KILLED_WRITE, str(path)],
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert run.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    "stop", [stopped_by_an_error, stopped_by_ctrl_c, killed], ids=lambda stop: stop.__name__
)
def test_a_write_stopped_midway_keeps_the_result_and_leaves_no_temporary(stop, tmp_path):
    """An error or Ctrl-C cleans up at once; a kill leaves one, removed by name at next start."""
    result = tmp_path / "results" / "stats" / "brain_behaviour.tsv"
    write_tsv(result, pd.DataFrame({"roi": ["AI_L"], "r": [0.25]}))
    before = result.read_bytes()
    stop(result, tmp_path / "logs" / "brain_behaviour.log")
    assert result.read_bytes() == before  # never half a file under the result's name
    left = stale_temporaries([tmp_path / "results"])
    assert len(left) == (1 if stop is killed else 0), left
    message = removal_message(remove_stale_temporaries([tmp_path / "results"]))
    if stop is killed:
        assert "removed 1 temporary file(s)" in message and str(left[0]) in message
        assert left[0].name.endswith(f"-{result.name}")
    else:
        assert message is None
    assert not stale_temporaries([tmp_path / "results"]) and result.read_bytes() == before


# --- what the user sees ------------------------------------------------------------------


def test_log_ends_with_the_message_which_is_also_on_stderr(tmp_path, capsys):
    log = tmp_path / "logs" / "job.log"
    error = InputFileError(tmp_path / "x_events.tsv", "lacks the column(s) ['onset']")
    with pytest.raises(InputFileError), log_to(log):
        raise error
    last = log.read_text().strip().splitlines()[-1]
    assert last.endswith(str(error)) and " ERROR " in last
    assert "Traceback" not in log.read_text()
    assert str(error) in capsys.readouterr().err


def test_other_errors_keep_their_traceback_in_the_log(tmp_path, capsys):
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError), log_to(log):
        raise RuntimeError("a bug")
    assert "Traceback" in log.read_text()
    assert capsys.readouterr().err == ""


def test_input_error_is_a_value_error_and_pickles(tmp_path):
    error = InputFileError(tmp_path / "a.tsv", "line one\nline two")
    assert isinstance(error, ValueError)
    assert "\n" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and copy.path == error.path


def test_a_phenotype_without_a_subjects_row_is_refused_naming_them(tmp_path):
    """The whole-brain regression and the score-selected ROIs need every subject's row."""
    from empathy_fmri.io.phenotype import require_phenotype_rows

    phenotype = pd.DataFrame(
        {"D": [0.5, 0.6]}, index=pd.Index(["sub-01", "sub-03"], name="participant_id")
    )
    path = tmp_path / "moral_dilemmas.tsv"
    require_phenotype_rows(phenotype, ["sub-01", "sub-03"], path, "the test")
    with pytest.raises(InputFileError) as caught:
        require_phenotype_rows(
            phenotype,
            ["sub-01", "sub-02", "sub-03", "sub-04"],
            path,
            "the whole-brain regression on 'D'",
        )
    message = str(caught.value)
    assert "sub-02, sub-04" in message and "2 of the 4 subjects" in message
    assert "whole-brain regression on 'D'" in message and path.name in message
