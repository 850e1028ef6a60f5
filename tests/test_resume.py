"""A killed run resumes with the README's commands and ends as if it had never stopped."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE, TINY_CONFIG, copy_workflow, run_snakemake

from empathy_fmri.io.stale_temporaries import stale_temporaries

# a second complete tiny study: outside the default run, to keep CI within its budget
pytestmark = [pytest.mark.e2e, pytest.mark.resume]

#: Every result is compared, figures included: SVGs carry no date and their ids
#: come from a fixed salt (empathy_fmri.plotting.style), so two runs of the same
#: config give the same bytes.
NOT_COMPARED: tuple[str, ...] = ()


def _resume_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- resume-commands -->\s*```bash\n(.*?)```", text, re.S)
    assert match, "README.md has no bash block after <!-- resume-commands -->"
    return [line for line in match.group(1).splitlines() if line.strip()]


def _results(workdir: Path) -> dict[str, Path]:
    """Every result file, by path.

    A temporary file that a killed job left behind (``.tmp-*``) counts: the
    resumed run removes them when it starts, so none may be left.
    ``results/report.html`` is made by ``snakemake --report``
    (tests/test_report.py writes it into the shared tiny run), not by the
    workflow.
    """
    return {
        str(path.relative_to(workdir)): path
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file()
        and not path.name.endswith(NOT_COMPARED)
        and path.relative_to(workdir).as_posix() != "results/report.html"
    }


def _kill_mid_run(workdir: Path, timeout: float = 600) -> None:
    """Start the tiny study and SIGKILL snakemake and its jobs once a first-level map exists."""
    glm = workdir / "results" / "derivatives" / "glm"
    with open(workdir / "killed_run.log", "w") as log:
        run = subprocess.Popen(
            [SNAKEMAKE, "--cores", "2", "--configfile", "tiny_config.yaml"],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        # The first subject's maps appear while its first_level job still writes
        # the rest of its files: the kill lands in the middle of a job.
        while not any(glm.glob("sub-*/*_contrast-needleMinusSwab_stat-effect_statmap.nii.gz")):
            assert run.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no first-level map appeared"
            time.sleep(0.02)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # snakemake and its jobs: one process group
        run.wait()


def test_killed_run_resumes_to_the_same_results(tiny_run: Path, tmp_path: Path):
    workdir = copy_workflow(tmp_path / "killed")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    _kill_mid_run(workdir)
    assert (
        "Using workflow specific profile profiles/default"
        in (workdir / "killed_run.log").read_text()
    ), "Snakemake did not load profiles/default by itself"
    assert list((workdir / ".snakemake" / "locks").iterdir()), "a kill should leave the lock"
    assert not (workdir / "results" / "stats" / "brain_behaviour.tsv").exists()
    # what the kill left of its atomic writes, and one more that is sure to be there
    killed_left = stale_temporaries([workdir / "results"])
    planted = workdir / "results" / "stats" / ".tmp-0123abcd-brain_behaviour.tsv"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text("roi\tr\nAI_L\t0.")

    commands = _resume_commands()
    assert [shlex.split(c)[:2] for c in commands] == [
        ["snakemake", "--unlock"],
        ["snakemake", "--cores"],
    ], commands
    for command in commands:  # as the README says: with the run's --configfile
        result = run_snakemake(
            workdir, *shlex.split(command)[1:], "--configfile", "tiny_config.yaml"
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr[-6000:]}"
    assert "empathy-fmri: done." in result.stdout
    removed = len(killed_left) + 1
    assert (
        f"empathy-fmri: removed {removed} temporary file(s) a stopped run left behind"
        in result.stdout
    ), (killed_left, result.stdout[:3000])
    assert str(planted.relative_to(workdir)) in result.stdout
    assert not stale_temporaries([workdir / "results"])

    resumed, reference = _results(workdir), _results(tiny_run)
    assert sorted(resumed) == sorted(reference)
    different = [
        name for name, path in reference.items() if path.read_bytes() != resumed[name].read_bytes()
    ]
    assert not different, f"the resumed run differs from an uninterrupted one: {different}"
