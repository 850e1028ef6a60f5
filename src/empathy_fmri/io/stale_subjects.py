"""Remove the files of simulated participants a smaller study no longer has."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "remove_stale_subjects",
    "stale_subject_folders",
]


def stale_subject_folders(roots: Iterable[str | Path], keep: Sequence[str]) -> list[Path]:
    """``sub-*`` folders directly under ``roots`` whose label is not in ``keep``.

    Parameters
    ----------
    roots : iterable of path
        Folders that hold one ``sub-XX`` folder per participant (the simulated
        BIDS dataset, its derivatives, the truth, the first level, the ROI fits).
    keep : sequence of str
        The participants of the study as configured now.

    Returns
    -------
    list of pathlib.Path
        Sorted; missing roots are skipped.
    """
    wanted = set(keep)
    stale = []
    for root in roots:
        root = Path(root)
        if root.is_dir():
            stale += [p for p in root.glob("sub-*") if p.is_dir() and p.name not in wanted]
    return sorted(stale)


def remove_stale_subjects(roots: Iterable[str | Path], keep: Sequence[str]) -> list[Path]:
    """Delete :func:`stale_subject_folders` and return them (for the message).

    Only for folders the simulator owns: a lab's dataset is never touched.
    """
    stale = stale_subject_folders(roots, keep)
    for folder in stale:
        shutil.rmtree(folder)
    return stale
