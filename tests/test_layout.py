"""The query layer on layouts nobody here wrote (issue 12).

Two datasets the simulator did not make: one from nilearn's own fake-BIDS
generator (derivatives straight under ``derivatives/``, sessions, two spaces,
TR only in the raw per-run sidecars, headers that disagree with them), and
one shaped like OpenNeuro ds006243 (fMRIPrep's ``space-MNI152NLin2009cAsym_res-2``
names, TR 2.5 s in per-run sidecars, runs that differ between subjects,
other-pain / other-no-pain trial types with cue and anticipation events, and
a confounds file with fMRIPrep's full column set, taken from the real one
nilearn ships). Each is found, read and fitted by the first-level job.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from layouts import DS_SPACE, DS_TASK, DS_TR_S, write_ds006243_like
from nilearn._utils.data_gen import create_fake_bids_dataset

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.bids import STATISTICS, design_matrix_path, statmap_path
from empathy_fmri.io.errors import InputFileError, LayoutError
from empathy_fmri.io.layout import find_runs, find_spaces, repetition_time, sidecar_metadata
from empathy_fmri.io.run_inputs import read_subject_runs
from empathy_fmri.jobs.first_level import run_first_level
from empathy_fmri.task.conditions import CONTRASTS

MOTION = {"strategy": ["motion"], "motion": "basic"}


def _outputs(out: Path, subject: str, task: str) -> tuple[dict, Path, Path, Path]:
    maps = {c: {s: statmap_path(out, subject, task, c, s) for s in STATISTICS} for c in CONTRASTS}
    return (
        maps,
        design_matrix_path(out, subject, task, "tsv"),
        design_matrix_path(out, subject, task, "png"),
        out / f"{subject}_inputs.json",
    )


# --- nilearn's fake BIDS dataset ----------------------------------------------------------


@pytest.fixture(scope="module")
def fake_bids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_fake_bids_dataset(
        base_dir=tmp_path_factory.mktemp("nilearn_fake"),
        n_sub=2,
        n_ses=2,
        tasks=["empathy"],
        n_runs=[2],
        n_voxels=20,
    )


def test_fake_bids_runs_are_found_by_session_and_run(fake_bids):
    derivatives = fake_bids / "derivatives"
    assert find_spaces(derivatives, "empathy") == ["MNI", "T1w"]
    runs = find_runs(fake_bids, derivatives, "sub-01", "empathy", "MNI")
    assert [r.label for r in runs] == [
        "ses-01_task-empathy_run-01",
        "ses-01_task-empathy_run-02",
        "ses-02_task-empathy_run-01",
        "ses-02_task-empathy_run-02",
    ]
    for run in runs:
        assert run.bold.is_file() and run.events.is_file() and run.confounds.is_file()
        assert "_space-MNI_desc-preproc_bold" in run.bold.name
        assert run.mask is not None and "_space-MNI_desc-brain_mask" in run.mask.name
        # the derivative has no sidecar: BIDS inheritance reaches the raw run's
        assert repetition_time(run, fake_bids, derivatives) == 1.5


def test_fake_bids_first_level_runs_with_the_study_conditions(fake_bids, tmp_path, caplog):
    analysis = AnalysisConfig(conditions={"needle": ("c0",), "swab": ("c1",)}, confounds=MOTION)
    data = tmp_path / "bids"
    shutil.copytree(fake_bids, data)
    source = {
        "bids_dir": str(data),
        "derivatives": str(data / "derivatives"),
        "task": "empathy",
        "space": "MNI",
    }
    maps, tsv, png, inputs = _outputs(tmp_path / "glm", "sub-01", "empathy")
    # nilearn's fake runs have 30 volumes of 1.5 s (45 s) but events up to 100 s:
    # the check refuses them by name, and nothing is written
    with pytest.raises(InputFileError, match="start after its run has ended.*ends at 45 s"):
        run_first_level("sub-01", source, analysis, maps, tsv, png, inputs)
    assert not tsv.exists()
    # with the events a real run of that length could have, it runs
    for events in data.glob("sub-01/ses-*/func/*_events.tsv"):
        table = pd.read_csv(events, sep="\t")
        table[table["onset"] < 40].to_csv(events, sep="\t", index=False)
    with caplog.at_level(logging.WARNING):
        run_first_level("sub-01", source, analysis, maps, tsv, png, inputs)
    assert all(Path(p).is_file() for stats in maps.values() for p in stats.values())
    design = pd.read_csv(tsv, sep="\t")
    assert design["run"].nunique() == 4
    # c2 is neither condition: a nuisance regressor of its own, named in the log
    assert {"needle", "swab", "c2", "trans_x", "rot_z"} <= set(design.columns)
    assert "c0" not in design.columns
    info = json.loads(inputs.read_text())
    assert info["nuisance_trial_types"] == ["c2"]
    assert info["tr_s"] == 1.5
    # the fake headers say 1 s: a warning names the file and the TR used
    assert any("uses 1.5 s" in r.getMessage() for r in caplog.records)


# --- a dataset shaped like OpenNeuro ds006243 ---------------------------------------------

TASK, SPACE, TR_S = DS_TASK, DS_SPACE, DS_TR_S
N_SCANS = 60


@pytest.fixture(scope="module")
def ds006243_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ds006243_like(tmp_path_factory.mktemp("ds006243") / "bids", n_scans=N_SCANS)


def test_ds006243_like_runs_differ_between_subjects(ds006243_like):
    derivatives = ds006243_like / "derivatives" / "fmriprep"
    assert find_spaces(derivatives, TASK) == [SPACE, "T1w"]
    assert len(find_runs(ds006243_like, derivatives, "sub-01", TASK, SPACE)) == 2
    runs = find_runs(ds006243_like, derivatives, "sub-02", TASK, SPACE)
    assert [r.label for r in runs] == [f"task-{TASK}_run-01"]
    assert runs[0].bold.name.endswith("_res-2_desc-preproc_bold.nii.gz")
    assert runs[0].mask.name.endswith("_res-2_desc-brain_mask.nii.gz")
    assert sidecar_metadata(
        ds006243_like / "sub-02" / "func" / f"sub-02_task-{TASK}_run-01_bold.nii.gz",
        ds006243_like,
    ) == {"RepetitionTime": TR_S}


def test_ds006243_like_first_level_maps_the_study_names(ds006243_like, tmp_path):
    analysis = AnalysisConfig(
        conditions={"needle": ("otherpain",), "swab": ("othernopain",)},
        confounds={"strategy": ["motion", "wm_csf"], "motion": "full", "wm_csf": "basic"},
    )
    derivatives = ds006243_like / "derivatives" / "fmriprep"
    runs = read_subject_runs(
        "sub-01", ds006243_like, derivatives, TASK, SPACE, analysis.conditions, analysis.confounds
    )
    assert runs.tr_s == TR_S
    assert runs.nuisance_trial_types == ["cue", "anticipation", "selfpain", "selfnopain"]
    # 24 motion columns and the two tissue signals, as load_confounds picks them
    assert runs.confounds[0].shape == (N_SCANS, 26)
    assert {"csf", "white_matter", "trans_x_derivative1_power2"} <= set(runs.confounds[0].columns)
    events = runs.events[0]
    raw = pd.read_csv(runs.runs[0].events, sep="\t")
    assert (events["trial_type"] == "needle").sum() == (raw["trial_type"] == "otherpain").sum()

    source = {
        "bids_dir": str(ds006243_like),
        "derivatives": str(derivatives),
        "task": TASK,
        "space": SPACE,
    }
    maps, tsv, png, inputs = _outputs(tmp_path, "sub-01", TASK)
    run_first_level("sub-01", source, analysis, maps, tsv, png, inputs)
    design = pd.read_csv(tsv, sep="\t")
    assert {"needle", "swab", "cue", "anticipation", "selfpain", "selfnopain", "csf"} <= set(
        design.columns
    )
    assert np.allclose(
        np.diff(design.loc[design["run"] == f"task-{TASK}_run-01", "frame_time_s"]), TR_S
    )


def test_two_resolutions_of_one_space_are_refused_by_name(ds006243_like, tmp_path):
    data = tmp_path / "bids"
    shutil.copytree(ds006243_like, data)
    func = data / "derivatives" / "fmriprep" / "sub-02" / "func"
    name = f"sub-02_task-{TASK}_run-01_space-{SPACE}"
    shutil.copy(
        func / f"{name}_res-2_desc-preproc_bold.nii.gz",
        func / f"{name}_res-1_desc-preproc_bold.nii.gz",
    )
    with pytest.raises(LayoutError, match="res-1.*res-2|2 preprocessed BOLD files"):
        find_runs(data, data / "derivatives" / "fmriprep", "sub-02", TASK, SPACE)


def test_stale_subjects_of_a_smaller_study_are_found_and_removed(tmp_path):
    from empathy_fmri.io.stale_subjects import remove_stale_subjects, stale_subject_folders

    bids, glm = tmp_path / "bids", tmp_path / "glm"
    for root in (bids, glm):
        for label in ("sub-01", "sub-02", "sub-03"):
            (root / label).mkdir(parents=True)
    (glm / "group").mkdir()
    (bids / "sub-03.txt").write_text("a file, not a participant folder")
    keep = ["sub-01", "sub-02"]
    assert stale_subject_folders([bids, glm, tmp_path / "absent"], keep) == [
        bids / "sub-03",
        glm / "sub-03",
    ]
    removed = remove_stale_subjects([bids, glm], keep)
    assert [p.name for p in removed] == ["sub-03", "sub-03"]
    assert sorted(p.name for p in bids.iterdir()) == ["sub-01", "sub-02", "sub-03.txt"]
    assert (glm / "group").is_dir()
