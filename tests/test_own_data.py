"""Analyse your own data: a dataset given by ``analysis.bids_dir``, read as fMRIPrep lays it out.

The simulated dataset is itself raw BIDS plus an fMRIPrep-style derivative,
so a copy of it, analysed as a lab's data (found on disk by the query layer,
nothing simulated), must give the same ROI table, byte for byte, as the
simulated path, which plans the same files from the config.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY_CONFIG, copy_workflow, run_snakemake

pytestmark = pytest.mark.e2e

TARGETS = ["results/roi/roi_contrasts.tsv", "results/analysis/participants.tsv"]


@pytest.fixture(scope="module")
def own_data_run(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study's dataset, copied and analysed through ``analysis.bids_dir``."""
    root = tmp_path_factory.mktemp("own_data")
    data = root / "lab_data"
    shutil.copytree(tiny_run / "results" / "bids", data)
    workdir = copy_workflow(root / "analysis")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    result = run_snakemake(
        workdir, "--cores", "2", "--configfile", "tiny_config.yaml",
        "--config", f"analysis={{bids_dir: {data}}}", "--", *TARGETS,
    )
    if result.returncode != 0:
        pytest.fail(f"analysis of the copied dataset failed:\n{result.stderr[-6000:]}")
    return workdir


def test_copy_of_the_simulated_dataset_gives_the_same_roi_table(tiny_run, own_data_run):
    direct = (tiny_run / TARGETS[0]).read_bytes()
    assert (own_data_run / TARGETS[0]).read_bytes() == direct
    # and nothing was simulated or graded: no truth next to the analysis
    assert not (own_data_run / "results" / "truth").exists()
    assert not (own_data_run / "results" / "bids").exists()


def test_participants_table_says_what_was_read(own_data_run, tiny_config):
    table = pd.read_csv(own_data_run / TARGETS[1], sep="\t", na_values="n/a")
    assert len(table) == tiny_config["n_subjects"]
    assert set(table["analysed"]) == {"yes"}
    assert (table["tr_s"] == tiny_config["design"]["tr"]).all()
    assert (table["confound_columns"] == 6).all()  # motion: basic
    assert set(table["nuisance_trial_types"]) == {"none"}


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


def _job_counts(text: str) -> dict[str, int]:
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def test_excluded_participant_is_simulated_but_not_analysed(tmp_path):
    workdir = copy_workflow(tmp_path / "study")
    result = run_snakemake(
        workdir, "-n", "--config", "analysis={participants: {exclude: {sub-02: 'moved 3 mm'}}}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _job_counts(result.stdout)
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
