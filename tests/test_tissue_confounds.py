"""fMRIPrep's tissue signals in the simulated derivative (issue 12).

One subject of the tiny study (every noise component on) is written as the
workflow writes it; its confounds file must hold fMRIPrep's ``global_signal``,
``csf``, ``white_matter`` and ``csf_wm`` columns, each the per-volume mean of
the written preprocessed BOLD over its mask, with the expansions nilearn's
``load_confounds`` reads, and a first level with the ``wm_csf`` and
``global_signal`` strategies must put them in its design.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from conftest import simulation_sections
from nilearn import datasets
from scipy import ndimage

from empathy_fmri.config import StudyConfig
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.bids import STATISTICS, design_matrix_path, statmap_path
from empathy_fmri.io.layout import FMRIPREP_FOLDER, SIMULATED_SPACE, find_runs
from empathy_fmri.jobs.first_level import run_first_level
from empathy_fmri.jobs.simulate import write_subject
from empathy_fmri.simulation.population import participant_id
from empathy_fmri.task.conditions import CONTRASTS

#: The written confounds have 8 significant digits: a value differs from the
#: exact one by at most half a unit of its 8th digit, 5e-8 of it; 1e-7 allows that.
RTOL = 1e-7


@pytest.fixture(scope="module")
def simulated(tiny_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One subject of the tiny study, written to BIDS, and its run's files."""
    study = StudyConfig.from_dict(tiny_config)
    root = tmp_path_factory.mktemp("tissue_confounds")
    write_subject(study.simulation, study.n_subjects, 0, root / "bids", root / "truth")
    bids = root / "bids"
    subject = participant_id(0, study.n_subjects)
    runs = find_runs(
        bids, bids / FMRIPREP_FOLDER, subject, study.simulation.task_name, SIMULATED_SPACE
    )
    return {
        "bids": bids,
        "subject": subject,
        "task": study.simulation.task_name,
        "run": runs[0],
        "voxel_mm": tiny_config["anatomy"]["voxel_size_mm"],
        "signal": tiny_config["signal"],
    }


def _masks_from_the_templates(voxel_mm: int, brain: np.ndarray) -> dict[str, np.ndarray]:
    """fMRIPrep's recipe, rebuilt here from nilearn's templates (not the library's code)."""
    grey = np.asarray(datasets.load_mni152_gm_template(resolution=voxel_mm).dataobj, float)
    white = np.asarray(datasets.load_mni152_wm_template(resolution=voxel_mm).dataobj, float)
    grey, white = np.clip(grey, 0, 1) * brain, np.clip(white, 0, 1) * brain
    csf = np.clip(1 - grey - white, 0, 1) * brain
    present = grey > 0.05
    if voxel_mm <= 3:  # a 3 mm ball reaches the face neighbours only from 3 mm down
        present = ndimage.binary_dilation(present)
    return {
        "global_signal": brain,
        "csf": brain & (csf > 0.99),
        "white_matter": brain & (np.where(present, 0, white) > 0.99),
        "csf_wm": brain & (np.where(present, 0, csf + white) > 0.99),
    }


def test_tissue_columns_are_means_of_the_written_bold(simulated):
    run = simulated["run"]
    bold = nib.load(run.bold).get_fdata()
    brain = np.asarray(nib.load(run.mask).dataobj) > 0
    table = pd.read_csv(run.confounds, sep="\t", na_values="n/a", keep_default_na=False)
    masks = _masks_from_the_templates(simulated["voxel_mm"], brain)
    assert list(table.columns[:13]) == [
        f"{name}{suffix}"
        for name in ("global_signal", "csf", "white_matter")
        for suffix in ("", "_derivative1", "_derivative1_power2", "_power2")
    ] + ["csf_wm"]
    for name, mask in masks.items():
        # a mask of a few voxels would make these means noise: the 6 mm grid keeps
        # 20 CSF and over 500 white-matter voxels
        assert mask.sum() >= 20, name
        mean = bold[mask].mean(axis=0)
        np.testing.assert_allclose(table[name], mean, rtol=RTOL, err_msg=name)
        if name == "csf_wm":
            continue
        derivative = np.diff(mean)
        assert np.isnan(table[f"{name}_derivative1"].iloc[0])
        assert np.isnan(table[f"{name}_derivative1_power2"].iloc[0])
        np.testing.assert_allclose(
            table[f"{name}_derivative1"].iloc[1:], derivative, rtol=RTOL, atol=1e-12, err_msg=name
        )
        np.testing.assert_allclose(
            table[f"{name}_derivative1_power2"].iloc[1:],
            derivative**2,
            rtol=RTOL,
            atol=1e-12,
            err_msg=name,
        )
        np.testing.assert_allclose(table[f"{name}_power2"], mean**2, rtol=RTOL, err_msg=name)
    # each tissue mask holds over 99% of its tissue, so its mean sits at that tissue's
    # baseline: the other 1% moves it by at most 1% of the largest baseline difference
    # (500 of 1300), the noise (tSNR 300, drift 0.2%) by far less than the 1% allowed
    signal = simulated["signal"]
    for name, baseline in (
        ("csf", signal["baseline_csf"]),
        ("white_matter", signal["baseline_white"]),
    ):
        assert table[name].mean() == pytest.approx(baseline, rel=0.01), name
    assert table.notna().iloc[1:].all().all()
    # only the first row is n/a, as in fMRIPrep's files
    first = run.confounds.read_text().splitlines()[1].split("\t")
    assert first[table.columns.get_loc("csf_derivative1")] == "n/a"
    sidecar = json.loads(run.confounds.with_suffix(".json").read_text())
    assert all(sidecar[name]["Description"] for name in table.columns[:13])


def test_first_level_with_tissue_strategies_puts_them_in_its_design(simulated, tmp_path):
    confounds = {
        "strategy": ["motion", "wm_csf", "global_signal"],
        "motion": "basic",
        "wm_csf": "basic",
        "global_signal": "basic",
    }
    analysis = AnalysisConfig(confounds=confounds)
    subject, task, bids = simulated["subject"], simulated["task"], simulated["bids"]
    source = {
        "bids_dir": str(bids),
        "derivatives": str(bids / FMRIPREP_FOLDER),
        "task": task,
        "space": SIMULATED_SPACE,
    }
    maps = {
        c: {s: statmap_path(tmp_path, subject, task, c, s) for s in STATISTICS} for c in CONTRASTS
    }
    tsv = design_matrix_path(tmp_path, subject, task, "tsv")
    inputs = tmp_path / f"{subject}_inputs.json"
    run_first_level(
        subject,
        source,
        analysis,
        maps,
        tsv,
        design_matrix_path(tmp_path, subject, task, "png"),
        inputs,
    )
    design = pd.read_csv(tsv, sep="\t")
    assert {"csf", "white_matter", "global_signal", "trans_x", "rot_z"} <= set(design.columns)
    columns = json.loads(inputs.read_text())["confound_columns"]
    assert sorted(columns) == sorted(
        [
            "trans_x",
            "trans_y",
            "trans_z",
            "rot_x",
            "rot_y",
            "rot_z",
            "csf",
            "white_matter",
            "global_signal",
        ]
    )
    # the regressors are the file's columns, demeaned by load_confounds
    written = pd.read_csv(simulated["run"].confounds, sep="\t", na_values="n/a")
    for name in ("csf", "white_matter", "global_signal"):
        expected = written[name] - written[name].mean()
        np.testing.assert_allclose(
            design[name], expected, rtol=1e-6, atol=1e-6 * written[name].abs().max(), err_msg=name
        )
    assert all(Path(p).is_file() for stats in maps.values() for p in stats.values())


def test_in_memory_tissue_regressors_equal_load_confounds(simulated, tiny_config):
    # the replicates and the noise validation never write their runs: the same subject
    # simulated in memory must give the regressors nilearn's load_confounds reads from
    # the file (to the file's 8 significant digits), for every option of the strategies
    from empathy_fmri.analysis.first_level import confound_regressors
    from empathy_fmri.io.run_inputs import read_run_confounds
    from empathy_fmri.pipeline.simulated_subject import simulate_subject_data
    from empathy_fmri.simulation.subject import build_space

    study = StudyConfig.from_dict(tiny_config)
    simulation = study.simulation
    space = build_space(simulation.anatomy, simulation.regions, simulation.signal)
    subject = simulate_subject_data(simulation, 0, study.n_subjects, space)
    n_scans = len(subject.confounds[0])
    written = pd.read_csv(simulated["run"].confounds, sep="\t", na_values="n/a")
    for option in ("basic", "power2", "derivatives", "full"):
        strategy = {
            "strategy": ["motion", "wm_csf", "global_signal"],
            "motion": option,
            "wm_csf": option,
            "global_signal": option,
        }
        (memory,) = confound_regressors(subject.confounds, strategy)
        from_file, _ = read_run_confounds(simulated["run"], strategy, n_scans)
        assert sorted(memory.columns) == sorted(from_file.columns), option
        assert {"csf", "white_matter", "global_signal"} <= set(memory.columns)
        for column in memory.columns:
            # each written value is within 5e-8 of itself (8 digits), and so is their
            # mean: demeaned, the two differ by at most 1e-7 of the largest written value
            atol = RTOL * np.nanmax(np.abs(written[column]))
            np.testing.assert_allclose(
                memory[column], from_file[column], rtol=0, atol=atol, err_msg=f"{option} {column}"
            )


def test_noise_validation_regresses_the_global_signal(tiny_config, tmp_path):
    # validate_noise simulates its runs in memory; with global_signal in the strategy its
    # first level must regress the mean of the run's image. Half of the simulated drift
    # (GLOBAL_SHARE) is one time course in every voxel, which that mean carries: a
    # regressor that held it exactly would remove that share of the drift the motion
    # model leaves; the test asks for half of it, because the global mean also carries
    # physiological and system noise that dilute it (measured: 0.47-0.59 of the drift
    # remains against motion alone, where ignoring the regressor would leave 1)
    from empathy_fmri.jobs.validate import run_noise_validation
    from empathy_fmri.simulation.drift import GLOBAL_SHARE

    simulation = simulation_sections(tiny_config)
    remaining = {}
    for strategy in (["motion"], ["motion", "global_signal"]):
        analysis = {
            **tiny_config["analysis"],
            "confounds": {"strategy": strategy, "motion": "basic"},
        }
        table = tmp_path / f"{len(strategy)}.tsv"
        run_noise_validation(
            simulation,
            analysis,
            tiny_config["n_subjects"],
            table,
            tmp_path / f"{len(strategy)}.png",
            max_subjects=1,
        )
        rows = pd.read_csv(table, sep="\t")
        remaining[len(strategy)] = float(
            rows.loc[
                (rows["participant_id"] == "all") & (rows["component"] == "drift"),
                "share_remaining",
            ].iloc[0]
        )
    assert remaining[2] < (1 - GLOBAL_SHARE / 2) * remaining[1], remaining
