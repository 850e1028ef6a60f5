"""Shared fixtures: the repository, the tiny config and one tiny workflow run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "tests" / "data" / "tiny_config.yaml"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def simulation_sections(config: dict) -> dict:
    """The sections of a config one subject's simulation reads (the fields of SimulationConfig)."""
    from empathy_fmri.config import SimulationConfig

    return {field.name: config[field.name] for field in dataclasses.fields(SimulationConfig)}


def copy_workflow(destination: Path) -> Path:
    """Copy what a user clones (Snakefile, config.yaml, workflow/, profiles/) into a folder."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", destination / "Snakefile")
    shutil.copy(REPO / "config.yaml", destination / "config.yaml")
    shutil.copytree(REPO / "workflow", destination / "workflow", dirs_exist_ok=True)
    shutil.copytree(REPO / "profiles", destination / "profiles", dirs_exist_ok=True)
    return destination


def run_snakemake(workdir: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the snakemake command line in ``workdir``, as a user would."""
    return subprocess.run(
        [SNAKEMAKE, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def job_counts(output: str) -> dict[str, int]:
    """The first "Job stats" table of a Snakemake run or dry run: jobs per rule."""
    lines = output.splitlines()
    start = lines.index("Job stats:") + 3  # the header and the dashes
    counts = {}
    for line in lines[start:]:
        rule, count = line.split()
        if rule == "total":
            return counts
        counts[rule] = int(count)
    raise AssertionError("no total line in the job stats")


@pytest.fixture(scope="session")
def placeholder_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every file the simulator would write for the tiny config, with placeholder content.

    The files are listed by ``snakemake --summary`` and created with no
    content (JSON files ``{}``), with a dataset description and a
    ``participants.tsv``: a stand-in for a lab's dataset that a dry run
    (which reads no data file) takes as one. Tests must not change it.
    Returns the dataset's folder and its participant labels.
    """
    workdir = copy_workflow(tmp_path_factory.mktemp("placeholder_workflow"))
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    summary = run_snakemake(workdir, "--summary", "--configfile", "tiny_config.yaml", timeout=300)
    assert summary.returncode == 0, summary.stderr[-3000:]
    dataset = tmp_path_factory.mktemp("placeholder") / "bids"
    files = [line.split("\t")[0] for line in summary.stdout.splitlines()]
    files = [f.removeprefix("results/bids/") for f in files if f.startswith("results/bids/")]
    assert any(f.endswith("_bold.nii.gz") for f in files)
    subjects = sorted({f.split("/")[0] for f in files if f.startswith("sub-")})
    for name in files:
        path = dataset / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}" if name.endswith(".json") else "")
    (dataset / "dataset_description.json").write_text('{"Name": "pilot", "BIDSVersion": "1.9.0"}')
    (dataset / "participants.tsv").write_text("participant_id\n" + "\n".join(subjects) + "\n")
    return dataset, subjects


def validator_errors(*arguments: str) -> list[dict]:
    """Errors of ``bids-validator-deno --json <arguments>``, the derivatives' included."""
    validator = shutil.which("bids-validator-deno") or str(
        Path(sys.executable).with_name("bids-validator-deno")
    )
    result = subprocess.run(
        [validator, "--json", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    issues = [report["issues"]["issues"]] + [
        derivative["issues"]["issues"]
        for derivative in report.get("derivativesSummary", {}).values()
    ]
    return [issue for found in issues for issue in found if issue["severity"] == "error"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_config() -> dict:
    """The default config, checked completely (schema, anatomy and noise)."""
    from empathy_fmri.pipeline.study_config import load_study_config

    return load_study_config(REPO / "config.yaml")


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    """The default config with the tiny overrides merged in, checked completely."""
    from empathy_fmri.pipeline.study_config import check_study_config

    base = yaml.safe_load((REPO / "config.yaml").read_text())
    return check_study_config(_merge(base, yaml.safe_load(TINY_CONFIG.read_text())))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the whole workflow once on the tiny config; return its folder.

    ``EMPATHY_TINY_RUN=<folder>`` reuses a finished run of the tiny config
    there instead (while developing; CI always runs it afresh).
    """
    reused = os.environ.get("EMPATHY_TINY_RUN")
    if reused:
        return Path(reused)
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny_run"))
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "tiny_config.yaml")
    if result.returncode != 0:
        pytest.fail(f"tiny workflow failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    # what the user saw at the end of the run (the onsuccess message)
    (workdir / "tiny_run.stdout").write_text(result.stdout)
    return workdir


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
