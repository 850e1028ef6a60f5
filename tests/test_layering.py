"""The library's subpackages import one another only upward through the layers.

Every ``.py`` file under ``src/empathy_fmri`` is parsed with :mod:`ast` (nothing is
imported, so a broken module cannot hide a violation) and checked for:

* imports of another ``empathy_fmri`` subpackage that the layer table forbids
  (module-level and function-level, ``import x`` and ``from x import y``, relative
  imports resolved, ``importlib.import_module("...")`` with a literal name);
* matplotlib (or nilearn.plotting, its front-end) imported outside ``plotting/``;
* a module docstring whose first line is a one-sentence summary;
* top-level modules other than ``__init__.py``.

``test_checker_finds_violations`` runs the same checker on a small synthetic tree
with known faults, so the checks on the real tree cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "src" / "empathy_fmri"

# What each subpackage may import besides itself, lowest layer first:
#   0 config; 1 anatomy, task; 2 simulation, io; 3 analysis; 4 evaluation;
#   5 pipeline; 6 plotting; 7 jobs.
_BASE = {"config", "anatomy", "task"}
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "config": frozenset(),
    "anatomy": frozenset({"config"}),
    "task": frozenset({"config"}),
    "simulation": frozenset(_BASE),  # never io
    "io": frozenset(_BASE),  # never simulation
    "analysis": frozenset(_BASE | {"io"}),  # never simulation or evaluation
    "evaluation": frozenset(_BASE | {"io", "simulation", "analysis"}),
    "pipeline": frozenset(_BASE | {"io", "simulation", "analysis", "evaluation"}),
    "plotting": frozenset(_BASE | {"io"}),  # draws what it is given
    "jobs": frozenset(
        _BASE | {"io", "simulation", "analysis", "evaluation", "pipeline", "plotting"}
    ),
}
# Named, documented exceptions (importer subpackage, imported module): the ROI
# effect and brain-behaviour figures still compute their t intervals and
# least-squares bands inside the drawing loop. Moving that computation to the
# callers is open work; nothing else may be added here.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {("plotting", "empathy_fmri.analysis.summaries")}
)
# Importing any empathy_fmri module runs the top-level __init__.py first, so it
# must import no subpackage at all (or config would drag in everything above it).
ROOT_ALLOWED: frozenset[str] = frozenset()

PLOTTING_SUBPACKAGE = "plotting"
# Top-level names that are (or import at once) matplotlib.
MATPLOTLIB_FAMILY = ("matplotlib", "mpl_toolkits", "pylab", "nilearn.plotting")

LAYER = "layer"
MATPLOTLIB = "matplotlib"
DOCSTRING = "docstring"
TOP_LEVEL = "top-level"
SYNTAX = "syntax"


def _module_name(path: Path, package_root: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` and whether it is a package ``__init__``."""
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    is_init = parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    return ".".join(parts), is_init


def _resolve_relative(module: str | None, level: int, package: str) -> str | None:
    """Absolute name of ``from <level dots><module> import ...`` inside ``package``."""
    if level == 0:
        return module
    base = package.split(".")
    if level - 1 >= len(base):
        return None  # beyond the top-level package
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _imports(tree: ast.AST, package: str) -> list[tuple[int, str | None, str]]:
    """Every import in ``tree`` as (line, absolute module name or None, as written).

    ``from a import b`` yields ``a.b`` as well as ``a`` so that importing a
    subpackage by name (``from empathy_fmri import simulation``) is seen.
    """
    found: list[tuple[int, str | None, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name, alias.name))
        elif isinstance(node, ast.ImportFrom):
            written = "." * node.level + (node.module or "")
            base = _resolve_relative(node.module, node.level, package)
            if base is None:
                found.append((node.lineno, None, written))
                continue
            found.append((node.lineno, base, written))
            for alias in node.names:
                if alias.name != "*":
                    found.append((node.lineno, f"{base}.{alias.name}", written))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC_IMPORTS)
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            name = node.args[0].value
            found.append((node.lineno, name, f"{name} (dynamic)"))
    return found


_DYNAMIC_IMPORTS = {"__import__", "import_module"}


def _summary_problem(docstring: str | None) -> str | None:
    """Why a module docstring's first line is no one-sentence summary, or None."""
    if docstring is None:
        return "no module docstring"
    first = docstring.strip().splitlines()[0].strip() if docstring.strip() else ""
    if not first:
        return "empty module docstring"
    if not first.endswith("."):
        return f"first line does not end with a period: {first!r}"
    return None


def find_violations(package_root: Path) -> list[str]:
    """Check the package at ``package_root`` against the layering rules.

    Each violation is ``"[rule] <file>:<line> <detail>"`` with the file relative
    to the folder holding the package, ``rule`` one of ``layer``, ``matplotlib``,
    ``docstring``, ``top-level`` or ``syntax``.
    """
    package_root = Path(package_root)
    top = package_root.name
    violations: list[str] = []
    # `from a import b, c` yields a, a.b and a.c: report each target once per line.
    seen: set[tuple[str, int, str, str]] = set()

    def once(shown: str, line: int, rule: str, target: str) -> bool:
        key = (shown, line, rule, target)
        if key in seen:
            return False
        seen.add(key)
        return True

    for path in sorted(package_root.glob("*.py")):
        if path.name != "__init__.py":
            violations.append(
                f"[{TOP_LEVEL}] {top}/{path.name}:1 top-level module; "
                "only __init__.py may live beside the subpackages"
            )

    for path in sorted(package_root.rglob("*.py")):
        rel = path.relative_to(package_root)
        if "__pycache__" in rel.parts:
            continue
        shown = path.relative_to(package_root.parent).as_posix()
        module, is_init = _module_name(path, package_root)
        package = module if is_init else module.rpartition(".")[0]
        # The subpackage a file belongs to, or None for the top-level __init__.py.
        owner = rel.parts[0] if len(rel.parts) > 1 else None

        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as error:
            violations.append(f"[{SYNTAX}] {shown}:{error.lineno} cannot be parsed: {error.msg}")
            continue

        problem = _summary_problem(ast.get_docstring(tree))
        if problem:
            violations.append(f"[{DOCSTRING}] {shown}:1 {problem}")

        if owner is None:
            allowed, who = ROOT_ALLOWED, f"top-level {top}/__init__.py"
        elif owner in ALLOWED_IMPORTS:
            allowed, who = ALLOWED_IMPORTS[owner], f"{owner}/"
        else:
            allowed, who = None, f"{owner}/"
            violations.append(f"[{LAYER}] {shown}:1 subpackage {owner!r} is not in the layer table")

        for line, name, written in _imports(tree, package):
            if name is None:
                violations.append(
                    f"[{LAYER}] {shown}:{line} -> {written} relative import beyond {top}"
                )
                continue
            parts = name.split(".")
            if parts[0] == top and len(parts) > 1:
                target = parts[1]
                # `from empathy_fmri import __version__` names no subpackage.
                is_subpackage = (package_root / target).is_dir() or target in ALLOWED_IMPORTS
                if (
                    is_subpackage
                    and allowed is not None
                    and target != owner
                    and target not in allowed
                    and (owner, written) not in KNOWN_EXCEPTIONS
                    and once(shown, line, LAYER, target)
                ):
                    violations.append(
                        f"[{LAYER}] {shown}:{line} -> {top}.{target} "
                        f"({who} may import only: {', '.join(sorted(allowed)) or 'nothing'})"
                    )
            family = [lib for lib in MATPLOTLIB_FAMILY if name == lib or name.startswith(lib + ".")]
            if owner != PLOTTING_SUBPACKAGE and family and once(shown, line, MATPLOTLIB, family[0]):
                violations.append(
                    f"[{MATPLOTLIB}] {shown}:{line} -> {name} "
                    f"(only {top}/{PLOTTING_SUBPACKAGE}/ may import matplotlib)"
                )

    return violations


def _of_rule(violations: list[str], rule: str) -> list[str]:
    return [v for v in violations if v.startswith(f"[{rule}]")]


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n  " + "\n  ".join(violations)


@pytest.fixture(scope="module")
def violations() -> list[str]:
    assert PACKAGE_ROOT.is_dir(), PACKAGE_ROOT
    return find_violations(PACKAGE_ROOT)


def test_modules_parse(violations: list[str]) -> None:
    found = _of_rule(violations, SYNTAX)
    assert not found, _report("modules that cannot be parsed", found)


def test_imports_respect_the_layers(violations: list[str]) -> None:
    found = _of_rule(violations, LAYER)
    assert not found, _report("imports against the layer table (file:line -> imported)", found)


def test_only_plotting_imports_matplotlib(violations: list[str]) -> None:
    found = _of_rule(violations, MATPLOTLIB)
    assert not found, _report("matplotlib imported outside plotting/", found)


def test_every_module_has_a_summary_docstring(violations: list[str]) -> None:
    found = _of_rule(violations, DOCSTRING)
    assert not found, _report("modules without a one-sentence summary docstring", found)


def test_no_top_level_modules_but_init(violations: list[str]) -> None:
    found = _of_rule(violations, TOP_LEVEL)
    assert not found, _report("top-level modules", found)


def _write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def test_checker_finds_violations(tmp_path: Path) -> None:
    root = tmp_path / "empathy_fmri"
    ok = '"""A summary."""\n'
    _write(root, "__init__.py", '"""The package."""\n\nfrom empathy_fmri import __version__\n')
    for sub in ("config", "anatomy", "io", "simulation", "analysis", "evaluation", "plotting"):
        _write(root, f"{sub}/__init__.py", ok)
    _write(root, "config/schema.py", '"""Reads the schema."""\n\nfrom ..anatomy import atlas\n')
    _write(root, "simulation/noise.py", '"""Noise."""\n\nfrom ..io import bids\n')
    _write(
        root,
        "analysis/glm.py",
        '"""Fits GLMs."""\n\n'
        "import numpy as np\n"
        "from empathy_fmri.simulation import x\n"  # line 4: forbidden, absolute
        "from empathy_fmri.io.bids import read_events\n"  # allowed
        "from . import roi\n"  # same subpackage: allowed
        "\n\n"
        "def fit():\n"
        '    """Fit."""\n'
        "    import matplotlib.pyplot as plt\n"  # line 11: matplotlib, function level
        "    from .. import evaluation\n"  # line 12: forbidden, relative, by name
        "    from ...outside import y\n"  # line 13: beyond the package
        "    return np, plt, x, read_events, roi, evaluation, y\n",
    )
    _write(
        root,
        "analysis/report.py",
        '"""Reports."""\n\n'
        "import importlib\n"
        "from nilearn import plotting\n"  # line 4: matplotlib front-end
        "\n"
        'sim = importlib.import_module("empathy_fmri.simulation.subject")\n',  # line 6
    )
    _write(root, "evaluation/score.py", '"""Scores."""\n\nfrom empathy_fmri.analysis import glm\n')
    _write(
        root,
        "plotting/figure.py",
        '"""Draws."""\n\nimport matplotlib\nfrom empathy_fmri.evaluation import score\n',
    )
    _write(root, "io/nodoc.py", "import json\n")
    _write(root, "io/badsummary.py", '"""Reads BIDS files\n\nmore text.\n"""\n')
    _write(root, "io/__pycache__/stale.py", "from empathy_fmri.simulation import x\n")
    _write(root, "utils/__init__.py", ok)
    _write(root, "plots.py", '"""A leftover flat module."""\n')
    _write(root, "anatomy/broken.py", '"""Broken."""\n\ndef (:\n')

    found = find_violations(root)
    text = "\n".join(found)

    expected = [
        "[layer] empathy_fmri/config/schema.py:3 -> empathy_fmri.anatomy",
        "[layer] empathy_fmri/simulation/noise.py:3 -> empathy_fmri.io",
        "[layer] empathy_fmri/analysis/glm.py:4 -> empathy_fmri.simulation",
        "[layer] empathy_fmri/analysis/glm.py:12 -> empathy_fmri.evaluation",
        "[layer] empathy_fmri/analysis/glm.py:13 -> ...outside relative import beyond",
        "[layer] empathy_fmri/analysis/report.py:6 -> empathy_fmri.simulation",
        "[layer] empathy_fmri/plotting/figure.py:4 -> empathy_fmri.evaluation",
        "[layer] empathy_fmri/utils/__init__.py:1 subpackage 'utils' is not in the layer table",
        "[matplotlib] empathy_fmri/analysis/glm.py:11 -> matplotlib.pyplot",
        "[matplotlib] empathy_fmri/analysis/report.py:4 -> nilearn.plotting",
        "[docstring] empathy_fmri/io/nodoc.py:1 no module docstring",
        "[docstring] empathy_fmri/io/badsummary.py:1 first line does not end with a period",
        "[top-level] empathy_fmri/plots.py:1 top-level module",
        "[syntax] empathy_fmri/anatomy/broken.py:3 cannot be parsed",
    ]
    for start in expected:
        assert any(v.startswith(start) for v in found), f"not reported: {start}\n{text}"

    # Nothing that is allowed is reported: exactly the faults above, each once.
    assert len(found) == len(expected), text
    assert "stale.py" not in text
    assert "plotting/figure.py:3" not in text  # plotting may import matplotlib
    assert "evaluation/score.py" not in text  # evaluation may import analysis
    assert "empathy_fmri/__init__.py" not in text  # __version__ is no subpackage


def test_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    root = tmp_path / "empathy_fmri"
    _write(root, "__init__.py", '"""The package."""\n\n__version__ = "0"\n')
    _write(root, "py.typed", "")
    for sub, body in {
        "config": "",
        "anatomy": "from empathy_fmri.config import load\n",
        "task": "from ..config import load\n",
        "simulation": "from empathy_fmri.anatomy import atlas\nfrom ..task import hrf\n",
        "io": "from empathy_fmri.task import hrf\n",
        "analysis": "from empathy_fmri.io import bids\nfrom empathy_fmri import anatomy\n",
        "evaluation": "from empathy_fmri.simulation import s\nfrom ..analysis import a\n",
        "pipeline": "from empathy_fmri.evaluation import e\n",
        "plotting": "import matplotlib.pyplot as plt\nfrom empathy_fmri.io import bids\n",
        "jobs": "from empathy_fmri.plotting import p\nfrom empathy_fmri.pipeline import s\n",
    }.items():
        _write(root, f"{sub}/__init__.py", f'"""The {sub} layer."""\n\n{body}')
        _write(root, f"{sub}/mod.py", f'"""A {sub} module (e.g. this one).\n\nMore.\n"""\n')

    assert find_violations(root) == []
