"""Analyse your own data: what ``analysis.bids_dir`` and ``analysis.participants`` refuse or do.

The full analysis of a copied dataset through ``analysis.bids_dir`` is
``tests/test_workflow.py::test_analysis_runs_unchanged_on_another_bids_dataset``.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import TINY_CONFIG, copy_workflow, job_counts, run_snakemake, validator_errors

pytestmark = pytest.mark.e2e


def test_raw_bold_without_derivative_stops_with_a_message(tiny_run, tmp_path):
    data = tmp_path / "raw_only"
    shutil.copytree(
        tiny_run / "results" / "bids", data, ignore=shutil.ignore_patterns("derivatives")
    )
    workdir = copy_workflow(tmp_path / "analysis")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    result = run_snakemake(
        workdir,
        "-n",
        "--configfile",
        "tiny_config.yaml",
        "--config",
        f"analysis={{bids_dir: {data}}}",
    )
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "raw BOLD is not analysed unpreprocessed" in text
    assert "Traceback" not in text


def test_excluded_participant_is_simulated_but_not_analysed(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir,
        "-n",
        "--config",
        "analysis={participants: {exclude: {sub-02: 'moved 3 mm'}}}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert counts["simulate_subject"] == 19  # the dataset stays complete and valid
    assert counts["first_level"] == 18
    assert counts["roi_glm"] == 18
    # named before any job, as in the warnings record at the end
    assert (
        "empathy-fmri warning: sub-02 is left out of the analysis "
        "('analysis.participants.exclude': moved 3 mm)"
    ) in result.stderr


def test_exclusion_of_an_unknown_participant_is_refused(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir,
        "-n",
        "--config",
        "analysis={participants: {exclude: {sub-99: 'moved'}}}",
    )
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "'analysis.participants.exclude' names ['sub-99']" in text
    assert "Traceback" not in text


def test_simulated_study_refuses_another_space(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(workdir, "-n", "--config", "analysis={space: MNI152NLin2009cAsym}")
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "'analysis.space' is 'MNI152NLin2009cAsym'" in text and "MNI152NLin2009aAsym" in text
    assert "Traceback" not in text


def test_a_second_study_lives_in_its_own_folder(tmp_path):
    # every file a study makes (results, logs, benchmarks) is under its results_dir,
    # so two configs run side by side without sharing one
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir, "--summary", "--config", "results_dir=study_n30", "n_subjects=30"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split("\t") for line in result.stdout.splitlines()[1:] if "\t" in line]
    outputs = [fields[0] for fields in lines]
    assert len(outputs) > 300 and any("sub-30" in path for path in outputs)
    assert [p for p in outputs if not p.startswith("study_n30/")] == []
    # one real job: its log and benchmark go to the study's folder too
    ran = run_snakemake(
        workdir,
        "--cores",
        "1",
        "--config",
        "results_dir=study_n30",
        "n_subjects=30",
        "--",
        "study_n30/bids/participants.tsv",
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert (workdir / "study_n30/logs/simulate_phenotype.log").is_file()
    assert (workdir / "study_n30/benchmarks/simulate_phenotype.tsv").is_file()
    assert not (workdir / "logs").exists() and not (workdir / "results").exists()


def test_fewer_subjects_leave_no_stale_participant(tiny_run, tmp_path):
    # the tiny study's dataset, then n_subjects lowered by one: the simulator's
    # folders of the participant it no longer has go, and the dataset stays valid
    workdir = copy_workflow(tmp_path / "study")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    shutil.copytree(tiny_run / "results" / "bids", workdir / "results" / "bids")
    # a fresh folder has no record of the earlier parameters: force the phenotype job
    fewer = run_snakemake(
        workdir,
        "--cores",
        "1",
        "--configfile",
        "tiny_config.yaml",
        "--config",
        "n_subjects=9",
        "--forcerun",
        "simulate_phenotype",
        "--",
        "results/bids/participants.tsv",
    )
    assert fewer.returncode == 0, fewer.stderr[-3000:]
    assert "removed 1 participant(s) no longer in the study (n_subjects = 9): sub-10" in (
        fewer.stdout + fewer.stderr
    )
    bids = workdir / "results" / "bids"
    assert not list(bids.rglob("sub-10*"))
    assert validator_errors(str(bids)) == []
    assert validator_errors(str(bids / "derivatives" / "fmriprep")) == []


def test_missing_phenotype_of_a_dataset_names_the_key(tmp_path):
    # found by the ds006243-like end-to-end run before its fixture had a phenotype: the
    # workflow stopped with Snakemake's MissingInputException of rule roi_definitions
    from layouts import DS_SPACE, DS_TASK, write_ds006243_like

    dataset = write_ds006243_like(tmp_path / "ds", n_scans=20)
    (dataset / "phenotype" / "moral_dilemmas.tsv").unlink()
    workdir = copy_workflow(tmp_path / "analysis")
    result = run_snakemake(
        workdir,
        "-n",
        "--config",
        f"task_name={DS_TASK}",
        f"analysis={{bids_dir: {dataset}, space: {DS_SPACE}, "
        "conditions: {needle: [otherpain], swab: [othernopain]}}",
    )
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "Config error: 'analysis.phenotype' is 'phenotype/moral_dilemmas.tsv'" in text
    assert str(dataset / "phenotype" / "moral_dilemmas.tsv") in text
    assert "MissingInputException" not in text and "Traceback" not in text
