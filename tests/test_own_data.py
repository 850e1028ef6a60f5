"""Analyse your own data: what ``analysis.bids_dir`` and ``analysis.participants`` refuse or do.

The full analysis of a copied dataset through ``analysis.bids_dir`` is
``tests/test_workflow.py::test_analysis_runs_unchanged_on_another_bids_dataset``.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import TINY_CONFIG, copy_workflow, job_counts, run_snakemake

pytestmark = pytest.mark.e2e

def test_raw_bold_without_derivative_stops_with_a_message(tiny_run, tmp_path):
    data = tmp_path / "raw_only"
    shutil.copytree(tiny_run / "results" / "bids", data,
                    ignore=shutil.ignore_patterns("derivatives"))
    workdir = copy_workflow(tmp_path / "analysis")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    result = run_snakemake(
        workdir, "-n", "--configfile", "tiny_config.yaml",
        "--config", f"analysis={{bids_dir: {data}}}",
    )
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "raw BOLD is not analysed unpreprocessed" in text
    assert "Traceback" not in text


def test_excluded_participant_is_simulated_but_not_analysed(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir, "-n", "--config", "analysis={participants: {exclude: {sub-02: 'moved 3 mm'}}}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert counts["simulate_subject"] == 19  # the dataset stays complete and valid
    assert counts["first_level"] == 18
    assert counts["roi_glm"] == 18


def test_exclusion_of_an_unknown_participant_is_refused(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir, "-n", "--config", "analysis={participants: {exclude: {sub-99: 'moved'}}}",
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
