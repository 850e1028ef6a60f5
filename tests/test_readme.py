"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_readme_slurm_test_command_is_the_ci_script():
    """The README's Slurm test command is .ci/slurm, which starts the local Slurm and runs them."""
    import os

    (command,) = _block_after("<!-- slurm-test-command -->")
    assert command == ".ci/slurm"
    script = REPO / ".ci" / "slurm"
    assert os.access(script, os.X_OK), ".ci/slurm is not executable"
    lines = script.read_text().splitlines()
    assert any("scripts/local-slurm.sh start" in line for line in lines)
    assert any(line.strip().endswith("pytest -m slurm") for line in lines)
    assert os.access(REPO / "scripts" / "local-slurm.sh", os.X_OK)


def test_readme_development_command_passes():
    """The style and workflow checks the README gives pass on the repository as it is."""
    import os
    import subprocess
    import sys

    (command,) = _block_after("<!-- development-command -->")
    # the environment's tools (ruff, snakemake) next to this Python
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(command, shell=True, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_readme_run_command_runs_the_default_study():
    (command,) = _block_after("<!-- run-command -->")
    assert command.endswith("snakemake --cores 4")
    assert "pip install -e ." in command


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


def test_readme_links_resolve_inside_the_repository():
    """Every relative Markdown link of README.md and docs/ names a file of the repository."""
    for document in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = document.read_text()
        assert "../shared" not in text, f"{document.name} points outside the repository"
        links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
        relative = [link for link in links if not re.match(r"[a-z]+:", link)]
        missing = [link for link in relative if not (document.parent / link).exists()]
        assert not missing, f"{document.name} links to missing files: {missing}"


def test_readme_names_only_paths_that_exist():
    """Backticked repository paths in README.md exist (e.g. `src/empathy_fmri/plotting/`)."""
    text = (REPO / "README.md").read_text()
    paths = re.findall(r"`((?:src|workflow|tests|docs|scripts|bench|notebooks)/[^`*<>{} ]+)`", text)
    assert paths, "expected the README to name some repository paths"
    missing = [path for path in paths if not (REPO / path).exists()]
    assert not missing, f"README.md names paths that do not exist: {missing}"


def test_readme_override_commands_work_verbatim(tmp_path):
    """Each override command of the README, as a dry run, applies its values.

    The README's own commands must pass the config check; the same commands
    with a value below the schema's minimum must be rejected naming the nested
    key, which shows that the override reached the config with its type (a
    string '2' would be rejected as a string, not as too small).
    """
    import shlex

    from conftest import copy_workflow, run_snakemake

    commands = _block_after("<!-- override-commands -->")
    assert len(commands) == 3, commands
    workdir = copy_workflow(tmp_path / "study")
    (workdir / "my_study.yaml").write_text("n_subjects: 40\nnoise:\n  tsnr: 50\n")
    for command in commands:
        words = shlex.split(command)
        assert words[:3] == ["snakemake", "--cores", "4"], command
        result = run_snakemake(workdir, *words[1:], "-n", "--quiet", "rules")
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    nested = shlex.split(commands[1])
    too_small = [w.replace("tsnr: 50", "tsnr: 2") for w in nested]
    result = run_snakemake(workdir, *too_small[1:], "-n")
    assert result.returncode != 0
    assert "config key 'noise.tsnr' is 2 but must be at least 5" in result.stderr + result.stdout
    (workdir / "my_study.yaml").write_text("noise:\n  tsnr: 2\n")
    result = run_snakemake(workdir, "-n", "--configfile", "my_study.yaml")
    assert "config key 'noise.tsnr' is 2 but must be at least 5" in result.stderr + result.stdout


def test_readme_own_data_config_is_a_valid_config():
    """The worked config of "Analyse your own data" passes the whole config check."""
    import yaml
    from conftest import _merge

    from empathy_fmri.pipeline.study_config import check_study_config

    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- own-data-config -->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "README.md has no yaml block after <!-- own-data-config -->"
    own = yaml.safe_load(match.group(1))
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    checked = check_study_config(_merge(base, own))
    analysis = checked["analysis"]
    assert analysis["conditions"] == {"needle": ["otherpain"], "swab": ["othernopain"]}
    assert analysis["confounds"]["strategy"] == ["motion", "wm_csf"]
    assert analysis["participants"]["exclude"] == {"sub-07": "mean framewise displacement 1.2 mm"}
