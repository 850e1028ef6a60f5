"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re

from conftest import REPO


def _block_after(marker: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    match = re.search(re.escape(marker) + r"\s*```bash\n(.*?)```", text, re.S)
    assert match, f"README.md has no bash block after {marker}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command_verbatim():
    (command,) = _block_after("<!-- test-command -->")
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines, "the README test command is not a line of .ci/run"


def test_readme_run_command_runs_the_default_study():
    (command,) = _block_after("<!-- run-command -->")
    assert command.endswith("snakemake --cores 4")
    assert 'pip install -e .' in command


def test_plain_install_can_build_the_report():
    """`pip install -e .` (the README's run command) must bring what --report needs.

    Snakemake needs pygments for reports, which it only pulls in with its
    ``reports`` extra; the test extra brings it by accident (through ipython),
    so the report test alone cannot catch its absence.
    """
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    snakemake = [d for d in project["dependencies"] if d.startswith("snakemake")]
    assert snakemake and "reports" in snakemake[0], snakemake
