"""Write files atomically, so that a crash never leaves a half-written result."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import pandas as pd

__all__ = [
    "TEMPORARY_NAME",
    "atomic_path",
    "link_or_copy",
    "write_json",
    "write_nifti",
    "write_text",
    "write_tsv",
]


#: How :func:`atomic_path` names its temporary files: ``.tmp-<8 hex digits>-<final name>``
#: (:mod:`empathy_fmri.io.stale_temporaries` finds those a killed job left behind).
TEMPORARY_NAME = re.compile(r"\.tmp-[0-9a-f]{8}-.+")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place on success.

    The temporary file keeps the final name's suffixes (``.nii.gz``, ``.tsv``)
    so that writers which infer the format from the name work unchanged. On
    any exception it is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or pathlib.Path
        Final location; parent folders are created.

    Yields
    ------
    pathlib.Path
        Where to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def link_or_copy(source: str | Path, path: str | Path) -> None:
    """Put a hard link to ``source`` at ``path`` atomically, or a copy where links fail.

    Two names of one file cost no space and are byte-identical by construction
    (the simulated raw BOLD and its ``desc-preproc`` derivative).
    """
    with atomic_path(path) as temporary:
        try:
            os.link(source, temporary)
        except OSError:
            shutil.copyfile(source, temporary)


def write_text(path: str | Path, text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON (indented, keys in insertion order) atomically."""
    write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def write_tsv(path: str | Path, table: pd.DataFrame, float_format: str = "%.6g") -> None:
    """Write a table as BIDS TSV (tab-separated, ``n/a`` for missing) atomically."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, sep="\t", index=False, na_rep="n/a", float_format=float_format)


def write_nifti(path: str | Path, image: nib.Nifti1Image) -> None:
    """Save a NIfTI image atomically."""
    with atomic_path(path) as temporary:
        image.to_filename(temporary)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
