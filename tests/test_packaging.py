"""The wheel ships every file of the library, and the installed copy finds its schema.

The wheel is built once per module from a copy of the files setuptools reads
(``pyproject.toml``, ``README.md``, ``src/``), so the build neither writes
``build/`` or ``*.egg-info`` into the work tree nor packs stale files that an
earlier in-tree build left in ``build/lib``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "empathy_fmri"
# What setuptools reads to build the wheel besides src/; copied when present.
PROJECT_FILES = ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in", "LICENSE")


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)


def _can_build_offline() -> bool:
    """Whether this environment's own setuptools can build the wheel.

    ``pip wheel --no-build-isolation`` uses the running environment's build
    backend. pyproject.toml asks for ``setuptools>=68`` and ``wheel``; the
    virtual environment that ``python3 -m venv`` makes here has setuptools 65.5
    and no ``wheel`` (the test extra does not list it), and setuptools before
    70.1 has no ``bdist_wheel`` of its own, so the build fails with
    "invalid command 'bdist_wheel'". Then the test builds in pip's usual
    isolated environment, which installs the build requirements from the
    package index (a few seconds; needs the index to be reachable).
    """
    try:
        setuptools = _version_tuple(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return False
    has_bdist_wheel = setuptools >= (70, 1) or importlib.util.find_spec("wheel") is not None
    return setuptools >= (68,) and has_bdist_wheel


def _copy_project(destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in PROJECT_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, destination / name)
    shutil.copytree(
        REPO / "src",
        destination / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return destination


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build the wheel; return (wheel, the copied package folder it was built from)."""
    base = tmp_path_factory.mktemp("packaging")
    project = _copy_project(base / "project")
    out = base / "wheelhouse"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out)]
    if _can_build_offline():
        command.append("--no-build-isolation")
    command.append(str(project))
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    wheels = sorted(out.glob(f"{PACKAGE}-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}: {list(out.iterdir())}"
    return wheels[0], project / "src" / PACKAGE


def _source_files(package_dir: Path) -> set[str]:
    """Every file of the package, as its path inside the wheel."""
    return {
        path.relative_to(package_dir.parent).as_posix()
        for path in package_dir.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.relative_to(package_dir).parts
        and path.suffix != ".pyc"
    }


def test_wheel_contains_every_source_file(built: tuple[Path, Path]) -> None:
    wheel, package_dir = built
    with zipfile.ZipFile(wheel) as archive:
        contents = set(archive.namelist())

    required = {f"{PACKAGE}/config/config.schema.yaml", f"{PACKAGE}/py.typed"}
    missing = sorted(required - contents)
    assert not missing, f"{wheel.name} lacks {missing}"

    source = _source_files(package_dir)
    data = sorted(name for name in source if not name.endswith(".py"))
    modules = sorted(name for name in source if name.endswith(".py"))
    assert modules, f"no modules found under {package_dir}"
    missing_data = [name for name in data if name not in contents]
    assert not missing_data, (
        f"{wheel.name} lacks these non-Python files of src/{PACKAGE} "
        f"(list them in [tool.setuptools.package-data]): {missing_data}"
    )
    missing_modules = [name for name in modules if name not in contents]
    assert not missing_modules, f"{wheel.name} lacks these modules: {missing_modules}"


def _install_wheel(wheel: Path, site: Path) -> None:
    """Install the wheel alone (no dependencies, no index) into the folder ``site``."""
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr


def test_installed_wheel_finds_its_packaged_schema(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = built
    site = tmp_path / "site"
    _install_wheel(wheel, site)

    # Run from tmp_path with only the installed copy on PYTHONPATH, so neither the
    # repository's src/ (via the current directory) nor its workflow/ is at hand.
    # PYTHONPATH comes before site-packages, where the editable install's .pth
    # adds src/; printing the package's own file shows which copy was imported.
    code = (
        "import empathy_fmri\n"
        "from empathy_fmri.config import default_schema_path\n"
        "p = default_schema_path()\n"
        "print(empathy_fmri.__file__)\n"
        "print(p)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTHONHOME", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    package_file, schema = (Path(line) for line in result.stdout.strip().splitlines()[-2:])

    site = site.resolve()
    assert package_file.resolve().is_relative_to(site), (
        f"imported {package_file}, not the copy installed in {site}"
    )
    assert schema.is_absolute(), schema
    assert schema.resolve().is_relative_to(site), (
        f"default_schema_path() gave {schema}, not the schema installed in {site}"
    )
    assert schema.is_file(), f"default_schema_path() gave {schema}, which does not exist"
    assert schema.name == "config.schema.yaml", schema


def test_workflow_dry_run_on_the_installed_wheel(built: tuple[Path, Path], tmp_path: Path) -> None:
    """A non-editable install runs the workflow: `snakemake -n` with only the wheel's copy."""
    from conftest import SNAKEMAKE, copy_workflow

    wheel, _ = built
    site = tmp_path / "site"
    _install_wheel(wheel, site)
    workdir = copy_workflow(tmp_path / "study")  # the job scripts inherit PYTHONPATH
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTHONHOME", None)
    result = subprocess.run(
        [SNAKEMAKE, "-n", "--quiet", "rules"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "simulate_subject" in result.stdout + result.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import empathy_fmri.config as c; print(c.__file__)"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(check.stdout.strip()).resolve().is_relative_to(site.resolve()), check.stdout
