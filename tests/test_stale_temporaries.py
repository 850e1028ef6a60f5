"""A killed atomic write leaves a temporary; the start of the next run removes it, and only it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

from empathy_fmri.io.atomic import TEMPORARY_NAME, write_json, write_tsv
from empathy_fmri.io.stale_temporaries import remove_stale_temporaries, stale_temporaries

#: A job killed (SIGKILL) while its atomic write is half done, as `kill -9` or
#: a lost node kills one: the ``finally`` that removes the temporary never runs.
KILLED_WRITE = """
import os, signal, sys
from empathy_fmri.io.atomic import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    temporary.write_text("participant_id\\tvalue\\nsub-01\\t0.")  # half a table
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_write(path: Path) -> Path:
    """Run :data:`KILLED_WRITE` for ``path`` in a process of its own; return its leftover."""
    before = set(path.parent.iterdir()) if path.parent.is_dir() else set()
    run = subprocess.run(
        [sys.executable, "-c", KILLED_WRITE, str(path)],
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert run.returncode == -signal.SIGKILL
    (left,) = set(path.parent.iterdir()) - before
    return left


def test_a_killed_write_leaves_a_temporary_that_is_removed_and_nothing_else(tmp_path):
    results, outside = tmp_path / "results", tmp_path / "elsewhere"
    stats = results / "stats"
    write_tsv(stats / "brain_behaviour.tsv", pd.DataFrame({"r": [0.25]}))
    write_json(results / "derivatives" / "glm" / "sub-01" / "inputs.json", {"runs": ["run-1"]})
    # a real leftover: the killed job's half-written table under its temporary name
    leftover = _killed_write(stats / "roi_contrasts.tsv")
    assert TEMPORARY_NAME.fullmatch(leftover.name) and leftover.name.endswith("-roi_contrasts.tsv")
    assert not (stats / "roi_contrasts.tsv").exists()
    # a second one deeper down, and files that only look alike
    deep = _killed_write(results / "derivatives" / "glm" / "sub-01" / "design.tsv")
    look_alike = [
        stats / ".tmp-notahex!-x.tsv",  # not 8 hex digits
        stats / ".tmp-1234abcd-",  # no final name
        stats / "notes.tmp-1234abcd-x.tsv",  # the pattern inside a name
        stats / ".TMP-1234abcd-x.tsv",  # another case
    ]
    for path in look_alike:
        path.write_text("a user's file")
    # a folder and a file linked from outside: never followed, never removed
    outside.mkdir()
    foreign = outside / ".tmp-1234abcd-theirs.tsv"
    foreign.write_text("another program's temporary")
    (results / "linked").symlink_to(outside, target_is_directory=True)
    (stats / ".tmp-cafe0123-link.tsv").symlink_to(foreign)

    assert stale_temporaries([results, tmp_path / "absent"]) == sorted([leftover, deep])
    assert remove_stale_temporaries([results]) == sorted([leftover, deep])
    assert not leftover.exists() and not deep.exists()
    assert all(path.read_text() == "a user's file" for path in look_alike)
    assert foreign.read_text() == "another program's temporary"
    assert (stats / ".tmp-cafe0123-link.tsv").is_symlink()
    assert pd.read_csv(stats / "brain_behaviour.tsv", sep="\t")["r"].tolist() == [0.25]
    assert remove_stale_temporaries([results]) == []
