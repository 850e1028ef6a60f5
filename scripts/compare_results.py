"""Compare two ``results/`` folders of the workflow, number by number.

A refactoring of the library (moving modules, splitting functions, renaming)
should leave the study's numbers unchanged. Run the workflow once before and
once after the change, then compare the two ``results/`` folders::

    python scripts/compare_results.py OLD_RESULTS_DIR NEW_RESULTS_DIR [--rtol 1e-6] [--atol 1e-9]

What is compared
----------------
``.tsv``
    Same columns in the same order and the same number of rows. A column whose
    values all read as numbers in both files (``n/a``, ``NaN`` and empty cells
    count as NaN) is compared within tolerance with NaN equal to NaN; any other
    column must match as text.
``.json``
    Compared recursively: the same keys and list lengths, numbers within
    tolerance (NaN equal to NaN), everything else equal. Keys named
    ``config_hash``, ``*_hash`` or ``GeneratedBy`` may differ (a refactoring can
    change the config hash or the version stamp); such differences are reported
    as ``ignored``.
``.nii`` and ``.nii.gz``
    Same shape, affine within tolerance, data array within tolerance.

Figures (``.png``, ``.svg``) and other files are not compared.

"Within tolerance" is ``|new - old| <= atol + rtol * |old|`` (:func:`numpy.isclose`).

Output
------
One line per compared file, ``<path>: same``, ``<path>: differs: <what>``,
``<path>: missing in new`` or ``<path>: new only``, then the summary line
``N files compared, K differ, M missing``. The exit code is 0 when nothing
differs and nothing is missing (files only in NEW do not count), 1 otherwise,
and 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TABLE_SUFFIXES = (".tsv",)
JSON_SUFFIXES = (".json",)
NIFTI_SUFFIXES = (".nii.gz", ".nii")
COMPARED_SUFFIXES = TABLE_SUFFIXES + JSON_SUFFIXES + NIFTI_SUFFIXES
IGNORED_KEYS = frozenset({"config_hash", "GeneratedBy"})
IGNORED_KEY_SUFFIX = "_hash"
# Cells that read as a missing number in a TSV (BIDS writes n/a).
MISSING_CELLS = frozenset({"", "n/a", "N/A", "NA", "nan", "NaN", "NAN", "None", "null"})
MAX_DETAILS = 5


@dataclass
class Comparison:
    """The outcome of comparing one file.

    Attributes
    ----------
    differences : list of str
        What differs; empty when the files agree.
    ignored : list of str
        Differences in keys that may differ (JSON hashes and version stamps).
    """

    differences: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in COMPARED_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def compared_files(root: Path) -> set[str]:
    """List the files under ``root`` that this script compares.

    Parameters
    ----------
    root : pathlib.Path
        A ``results/`` folder.

    Returns
    -------
    set of str
        POSIX paths relative to ``root`` of every ``.tsv``, ``.json`` and NIfTI file.
    """
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and _suffix(path) is not None
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close(old: np.ndarray, new: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(new, old, rtol=rtol, atol=atol, equal_nan=True)


def _numeric_summary(
    old: np.ndarray, new: np.ndarray, close: np.ndarray, unit: str, where: str = ""
) -> str:
    bad = ~close
    diff = np.abs(new[bad] - old[bad])
    finite = diff[np.isfinite(diff)]
    parts = [f"{int(bad.sum())} of {bad.size} {unit} beyond tolerance"]
    if finite.size:
        parts.append(f"max |diff| {_fmt(finite.max())}")
    if where:
        parts.append(where)
    return ", ".join(parts)


def _as_numbers(column: pd.Series) -> np.ndarray | None:
    """The column as float64 with missing cells as NaN, or None if it holds text."""
    text = column.str.strip()
    numbers = pd.to_numeric(text.where(~text.isin(MISSING_CELLS)), errors="coerce")
    if (numbers.isna() & ~text.isin(MISSING_CELLS)).any():
        return None
    return numbers.to_numpy(dtype=float)


def compare_tables(old_path: Path, new_path: Path, rtol: float, atol: float) -> Comparison:
    """Compare two tab-separated tables.

    Parameters
    ----------
    old_path, new_path : pathlib.Path
        The reference table and the one to check.
    rtol, atol : float
        Relative and absolute tolerance for numeric columns.

    Returns
    -------
    Comparison
        The differences found.
    """
    result = Comparison()
    read = {"sep": "\t", "dtype": str, "keep_default_na": False, "na_filter": False}
    old = pd.read_csv(old_path, **read)
    new = pd.read_csv(new_path, **read)

    if list(old.columns) != list(new.columns):
        only_old = [c for c in old.columns if c not in new.columns]
        only_new = [c for c in new.columns if c not in old.columns]
        if not only_old and not only_new:
            result.differences.append(f"column order {list(old.columns)} vs {list(new.columns)}")
        else:
            result.differences.append(f"columns only in old {only_old}, only in new {only_new}")
        return result
    if len(old) != len(new):
        result.differences.append(f"{len(old)} rows vs {len(new)}")
        return result

    for name in old.columns:
        old_numbers, new_numbers = _as_numbers(old[name]), _as_numbers(new[name])
        if old_numbers is not None and new_numbers is not None:
            close = _close(old_numbers, new_numbers, rtol, atol)
            if not close.all():
                row = int(np.flatnonzero(~close)[0])
                where = (
                    f"first at row {row + 1}: {_fmt(old_numbers[row])} -> {_fmt(new_numbers[row])}"
                )
                summary = _numeric_summary(old_numbers, new_numbers, close, "rows", where)
                result.differences.append(f"column {name!r}: {summary}")
        else:
            unequal = (old[name] != new[name]).to_numpy()
            if unequal.any():
                row = int(np.flatnonzero(unequal)[0])
                result.differences.append(
                    f"column {name!r}: {int(unequal.sum())} of {len(old)} rows differ, "
                    f"first at row {row + 1}: {_fmt(old[name].iloc[row])} -> "
                    f"{_fmt(new[name].iloc[row])}"
                )
    return result


def _is_ignored(key: str) -> bool:
    return key in IGNORED_KEYS or key.endswith(IGNORED_KEY_SUFFIX)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_differences(
    old: Any, new: Any, path: str, rtol: float, atol: float, result: Comparison
) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if _is_ignored(str(key)):
                if key not in old or key not in new or old[key] != new[key]:
                    result.ignored.append(where)
            elif key not in new:
                yield f"{where} missing in new"
            elif key not in old:
                yield f"{where} only in new"
            else:
                yield from _json_differences(old[key], new[key], where, rtol, atol, result)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            yield f"{path or 'top level'}: {len(old)} items vs {len(new)}"
            return
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            yield from _json_differences(old_item, new_item, f"{path}[{index}]", rtol, atol, result)
    elif _is_number(old) and _is_number(new):
        both_nan = isinstance(old, float) and isinstance(new, float)
        both_nan = both_nan and math.isnan(old) and math.isnan(new)
        if not both_nan and not math.isclose(new, old, rel_tol=0, abs_tol=atol + rtol * abs(old)):
            yield f"{path or 'top level'}: {_fmt(old)} -> {_fmt(new)}"
    elif type(old) is not type(new) or old != new:
        yield f"{path or 'top level'}: {_fmt(old)} -> {_fmt(new)}"


def compare_json(old_path: Path, new_path: Path, rtol: float, atol: float) -> Comparison:
    """Compare two JSON documents recursively.

    Parameters
    ----------
    old_path, new_path : pathlib.Path
        The reference document and the one to check.
    rtol, atol : float
        Relative and absolute tolerance for numbers.

    Returns
    -------
    Comparison
        The differences found, and the ignored keys (hashes, ``GeneratedBy``)
        whose values differ.
    """
    result = Comparison()
    old = json.loads(old_path.read_text(encoding="utf-8"))
    new = json.loads(new_path.read_text(encoding="utf-8"))
    found = list(_json_differences(old, new, "", rtol, atol, result))
    if len(found) > MAX_DETAILS:
        found = [*found[:MAX_DETAILS], f"and {len(found) - MAX_DETAILS} more"]
    result.differences.extend(found)
    return result


def compare_nifti(old_path: Path, new_path: Path, rtol: float, atol: float) -> Comparison:
    """Compare two NIfTI images by shape, affine and data.

    Parameters
    ----------
    old_path, new_path : pathlib.Path
        The reference image and the one to check.
    rtol, atol : float
        Relative and absolute tolerance for the affine and the voxel values.

    Returns
    -------
    Comparison
        The differences found.
    """
    import nibabel as nib

    result = Comparison()
    old, new = nib.load(old_path), nib.load(new_path)
    if old.shape != new.shape:
        result.differences.append(f"shape {old.shape} vs {new.shape}")
        return result
    old_affine = np.asarray(old.affine, dtype=float)
    new_affine = np.asarray(new.affine, dtype=float)
    if not _close(old_affine, new_affine, rtol, atol).all():
        result.differences.append(f"affine {old_affine.tolist()} vs {new_affine.tolist()}")
    old_data = np.asarray(old.get_fdata(), dtype=float)
    new_data = np.asarray(new.get_fdata(), dtype=float)
    close = _close(old_data, new_data, rtol, atol)
    if not close.all():
        result.differences.append("data: " + _numeric_summary(old_data, new_data, close, "voxels"))
    return result


def compare_file(old_path: Path, new_path: Path, rtol: float, atol: float) -> Comparison:
    """Compare two files of the same kind, chosen by suffix.

    Parameters
    ----------
    old_path, new_path : pathlib.Path
        The reference file and the one to check.
    rtol, atol : float
        Relative and absolute tolerance for numbers.

    Returns
    -------
    Comparison
        The differences found; a file that cannot be read is a difference.
    """
    suffix = _suffix(old_path)
    compare = {
        **dict.fromkeys(TABLE_SUFFIXES, compare_tables),
        **dict.fromkeys(JSON_SUFFIXES, compare_json),
        **dict.fromkeys(NIFTI_SUFFIXES, compare_nifti),
    }[suffix]
    try:
        return compare(old_path, new_path, rtol, atol)
    except Exception as error:  # an unreadable or malformed file is a finding
        return Comparison(differences=[f"cannot compare: {type(error).__name__}: {error}"])


def compare_folders(
    old_root: Path, new_root: Path, rtol: float, atol: float, out: Any = sys.stdout
) -> int:
    """Compare every TSV, JSON and NIfTI file of two results folders and print a report.

    Parameters
    ----------
    old_root, new_root : pathlib.Path
        The reference ``results/`` folder and the one to check.
    rtol, atol : float
        Relative and absolute tolerance for numbers.
    out : file-like, optional
        Where the report goes; standard output by default.

    Returns
    -------
    int
        0 if no file differs and none is missing from ``new_root``, else 1.
    """
    old_files, new_files = compared_files(old_root), compared_files(new_root)
    compared = differ = missing = 0
    for name in sorted(old_files | new_files):
        if name not in new_files:
            missing += 1
            print(f"{name}: missing in new", file=out)
            continue
        if name not in old_files:
            print(f"{name}: new only", file=out)
            continue
        compared += 1
        result = compare_file(old_root / name, new_root / name, rtol, atol)
        ignored = f" (ignored: {', '.join(result.ignored)})" if result.ignored else ""
        if result.differences:
            differ += 1
            print(f"{name}: differs: {'; '.join(result.differences)}{ignored}", file=out)
        else:
            print(f"{name}: same{ignored}", file=out)
    print(f"{compared} files compared, {differ} differ, {missing} missing", file=out)
    return 0 if differ == 0 and missing == 0 else 1


def _tolerance(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"a tolerance must be >= 0, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit code.
    """
    parser = argparse.ArgumentParser(
        description=(
            "Check that two results/ folders of the workflow hold the same numbers "
            "(TSV, JSON and NIfTI files; figures are not compared)."
        )
    )
    parser.add_argument("old", type=Path, metavar="OLD_RESULTS_DIR", help="reference results")
    parser.add_argument("new", type=Path, metavar="NEW_RESULTS_DIR", help="results to check")
    parser.add_argument(
        "--rtol", type=_tolerance, default=1e-6, help="relative tolerance (default 1e-6)"
    )
    parser.add_argument(
        "--atol", type=_tolerance, default=1e-9, help="absolute tolerance (default 1e-9)"
    )
    args = parser.parse_args(argv)
    for folder in (args.old, args.new):
        if not folder.is_dir():
            parser.error(f"not a folder: {folder}")
    return compare_folders(args.old, args.new, args.rtol, args.atol)


if __name__ == "__main__":
    sys.exit(main())
