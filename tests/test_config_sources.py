"""Every default of the simulated world in config.yaml names its source.

A default of the population, the signal, the noise or the behaviour is a
statement about the world; the comment above it (or above the group of keys
it belongs to) must cite a study (an author and a year) or say that the
value is our choice, an assumption or a calibration, so that a reader knows
which it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"
#: Sections that describe the simulated world (the analysis and power
#: sections are a lab's choices, documented in the schema).
WORLD_SECTIONS = ("design", "signal", "noise", "behaviour")
CITATION = re.compile(r"[A-Z][A-Za-z'-]+( et al\.| &| and|,)?.*\b(19|20)\d\d\b")
DECLARED = re.compile(r"our choice|our calibration|assumed|our calibration", re.IGNORECASE)


def _keys_with_comments() -> list[tuple[str, str]]:
    """(dotted key, the comment block that documents it) for each leaf of the world sections.

    A key's block is the nearest comment block above it at its own or an
    outer indentation: keys that follow one comment without a comment of
    their own share it.
    """
    rows = []
    section = None
    block: list[str] = []
    last_block = ""
    path: list[tuple[int, str]] = []
    for line in CONFIG.read_text().splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped:
            continue
        if stripped.startswith("#"):
            block.append(stripped.lstrip("# "))
            continue
        key = stripped.split(":", 1)[0]
        if indent == 0:
            section, path, last_block = key, [], ""
            block = []
            continue
        path = [(i, k) for i, k in path if i < indent] + [(indent, key)]
        if block:
            last_block = " ".join(block)
            block = []
        leaf = not stripped.endswith(":")
        if section in WORLD_SECTIONS and leaf:
            dotted = ".".join([section, *(k for _, k in path)])
            rows.append((dotted, last_block))
    return rows


KEYS = _keys_with_comments()


def test_the_parser_sees_the_world_sections():
    names = {key for key, _ in KEYS}
    for key in ("noise.thermal_share", "signal.rois.AI_L", "behaviour.D_mean", "design.tr"):
        assert key in names, key


@pytest.mark.parametrize(("key", "comment"), KEYS, ids=[key for key, _ in KEYS])
def test_every_default_names_its_source(key, comment):
    assert CITATION.search(comment) or DECLARED.search(comment), (
        f"config.yaml: the comment above '{key}' cites no study and does not say the "
        f"value is our choice, assumed or a calibration: {comment!r}"
    )
