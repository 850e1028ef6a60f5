"""Remove the temporary files that a killed job's atomic writes left behind.

:func:`empathy_fmri.io.atomic.atomic_path` writes every result under a hidden
temporary name (``.tmp-<8 hex digits>-<final name>``) beside it and renames it
into place; an error removes the temporary, but a ``SIGKILL``, a crash of the
machine or a lost session does not give it the chance. Such a file is never a
result, so the workflow removes those of its own naming pattern when a run
starts, before any job could be writing one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from empathy_fmri.io.atomic import TEMPORARY_NAME

__all__ = [
    "remove_stale_temporaries",
    "removal_message",
    "stale_temporaries",
]


def stale_temporaries(roots: Iterable[str | Path]) -> list[Path]:
    """Files under ``roots`` (recursively) named as the atomic writes name their temporaries.

    Only regular files whose whole name matches
    :data:`~empathy_fmri.io.atomic.TEMPORARY_NAME` count; symbolic links are
    neither returned nor followed into, so nothing outside ``roots`` is seen.

    Parameters
    ----------
    roots : iterable of path
        Folders the workflow writes with atomic writes (its ``results_dir``);
        missing ones are skipped.

    Returns
    -------
    list of pathlib.Path
        Sorted.
    """
    found = []
    for root in roots:
        for folder, _, names in os.walk(root, followlinks=False):
            for name in names:
                path = Path(folder) / name
                if TEMPORARY_NAME.fullmatch(name) and path.is_file() and not path.is_symlink():
                    found.append(path)
    return sorted(found)


def remove_stale_temporaries(roots: Iterable[str | Path]) -> list[Path]:
    """Delete :func:`stale_temporaries` and return them (for the message).

    Call it only when no job of the workflow is running in ``roots`` (the
    workflow's ``onstart``: Snakemake holds the folder's lock and has started
    no job yet), or it could remove a file that a running job is about to move
    into place.

    Parameters
    ----------
    roots : iterable of path
        See :func:`stale_temporaries`.

    Returns
    -------
    list of pathlib.Path
        The files removed, sorted; one that vanished meanwhile is left out.
    """
    removed = []
    for path in stale_temporaries(roots):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def removal_message(removed: Sequence[str | Path]) -> str | None:
    """The line the workflow prints for :func:`remove_stale_temporaries`, naming every file.

    Parameters
    ----------
    removed : sequence of path
        What :func:`remove_stale_temporaries` returned.

    Returns
    -------
    str or None
        None when nothing was removed.
    """
    if not removed:
        return None
    return (
        f"empathy-fmri: removed {len(removed)} temporary file(s) a stopped run left "
        f"behind: {', '.join(str(path) for path in removed)}"
    )
