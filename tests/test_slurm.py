"""The Slurm profile on a running Slurm: the tiny study and a batch of replicate studies.

Marked ``slurm`` and left out of the default run: ``.ci/slurm`` starts the
local Slurm of ``scripts/local-slurm.sh`` and runs ``pytest -m slurm``. Without
a Slurm that answers ``sinfo`` (or without the executor plugin) the tests are
skipped, saying which is missing (failed instead when
``EMPATHY_FMRI_REQUIRE_SLURM`` is set, as ``.ci/slurm`` does).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TINY_CONFIG, copy_workflow, run_snakemake

pytestmark = pytest.mark.slurm

#: The tiny study plus a small batch of replicate studies on its grid.
REPLICATE_BATCH = {
    "n_replicates": 2,
    "n_null_replicates": 1,
    "n_subjects": 8,
    "voxel_size_mm": 6,
    "n_permutations": 50,
}
TARGETS = ("all", "replicates")
PROFILE = "workflow/profiles/slurm"


def _slurm_missing() -> str | None:
    """Why the Slurm run cannot happen here, or None when it can."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    if shutil.which("sinfo") is None:
        return "no Slurm here: sinfo is not on PATH (start one: sudo scripts/local-slurm.sh start)"
    try:
        answer = subprocess.run(
            ["sinfo", "-h", "-o", "%a"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return (
            "no Slurm here: sinfo did not answer within 20 s "
            "(start one: sudo scripts/local-slurm.sh start)"
        )
    if answer.returncode != 0 or "up" not in answer.stdout.split():
        return (
            "no Slurm here: sinfo shows no partition that is up "
            f"({(answer.stderr or answer.stdout).strip()}); "
            "start one: sudo scripts/local-slurm.sh start"
        )
    return None


def _study(workdir: Path) -> Path:
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["power"] = {"replicates": REPLICATE_BATCH}
    (workdir / "slurm_study.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same study run locally and through the Slurm profile, with their outputs."""
    missing = _slurm_missing()
    if missing and os.environ.get("EMPATHY_FMRI_REQUIRE_SLURM"):
        pytest.fail(f"EMPATHY_FMRI_REQUIRE_SLURM is set, but {missing}")
    if missing:
        pytest.skip(missing)
    local = _study(copy_workflow(tmp_path_factory.mktemp("local")))
    slurm = _study(copy_workflow(tmp_path_factory.mktemp("slurm")))
    args = (*TARGETS, "--configfile", "slurm_study.yaml")
    timings = {}
    start = time.monotonic()
    local_run = run_snakemake(local, "--cores", "2", *args, timeout=3600)
    timings["local"] = time.monotonic() - start
    assert local_run.returncode == 0, local_run.stderr[-6000:]
    start = time.monotonic()
    slurm_run = run_snakemake(slurm, "--workflow-profile", PROFILE, *args, timeout=3600)
    timings["slurm"] = time.monotonic() - start
    assert slurm_run.returncode == 0, slurm_run.stderr[-6000:]
    print(
        f"tiny study + replicate batch: local {timings['local']:.0f} s, "
        f"Slurm {timings['slurm']:.0f} s"
    )
    return {"local": local, "slurm": slurm, "output": slurm_run.stdout + slurm_run.stderr}


def test_every_job_ran_as_a_slurm_job(runs):
    output = runs["output"]
    (run_id,) = re.findall(r"SLURM run ID: (\S+)", output)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", output)
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", output)
    assert done, output[-3000:]
    # `all` and `replicates` only gather files: Snakemake finishes them itself.
    assert len(submitted) == int(done[-1][1]) - len(TARGETS), output[-3000:]
    accounting = subprocess.run(
        [
            "sacct",
            "-n",
            "-X",
            "-P",
            "--starttime",
            "now-1days",
            "--name",
            run_id,
            "-o",
            "JobID,State,Partition",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("|") for line in accounting.stdout.splitlines() if line]
    assert sorted(row[0] for row in rows) == sorted(submitted)
    assert {row[1] for row in rows} == {"COMPLETED"}, rows


def test_slurm_outputs_equal_the_local_run(runs):
    """Every table, JSON and image of the Slurm run equals the local run's (no tolerance)."""
    compare = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "compare_results.py"),
            str(runs["local"] / "results"),
            str(runs["slurm"] / "results"),
            "--rtol",
            "0",
            "--atol",
            "0",
        ],
        capture_output=True,
        text=True,
    )
    assert compare.returncode == 0, compare.stdout[-4000:]
    replicate_tables = list((runs["slurm"] / "results" / "power" / "replicates").rglob("*.tsv"))
    assert len(replicate_tables) == 4 * (
        REPLICATE_BATCH["n_replicates"] + REPLICATE_BATCH["n_null_replicates"]
    )
    assert ", 0 differ, 0 missing" in compare.stdout, compare.stdout[-2000:]
