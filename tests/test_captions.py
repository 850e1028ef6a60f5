"""The report's figure captions: valid reStructuredText and only config keys that exist."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

CAPTIONS = sorted((REPO / "workflow" / "report").glob("*.rst"))
#: A reStructuredText substitution reference such as |r|: docutils fails on it
#: unless it is defined (a Jinja filter, "x | join", has spaces around the bar).
SUBSTITUTION = re.compile(r"\|[^\s|]([^|\n]*[^\s|])?\|")
#: snakemake.config["a"]["b"] in a Jinja expression.
CONFIG_LOOKUP = re.compile(r'snakemake\.config((?:\["[^"]+"\])+)')
#: a dotted config key written out in the text, e.g. analysis.rois or noise.flinch_mm.
DOTTED_KEY = re.compile(r"(?<![\w./-])([a-z_]+(?:\.[a-z_0-9]+)+)(?![\w/(])")


def _has_key(config: dict, path: list[str]) -> bool:
    node = config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.fixture(scope="module")
def written_config() -> dict:
    """config.yaml as written (every key is documented there)."""
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_there_are_captions():
    assert len(CAPTIONS) > 15


def test_the_checks_catch_what_they_look_for(written_config):
    assert SUBSTITUTION.search("the size |r| of r")
    assert not SUBSTITUTION.search('{{ snakemake.config["analysis"]["scores"] | join(", ") }}')
    assert not _has_key(written_config, ["noise", "tsnr_db"])
    assert [m.group(1) for m in DOTTED_KEY.finditer("see ``analysis.rois`` and noise.flinch_mm.")
            ] == ["analysis.rois", "noise.flinch_mm"]


@pytest.mark.parametrize("caption", CAPTIONS, ids=[p.stem for p in CAPTIONS])
def test_caption_has_no_bare_substitution(caption):
    text = caption.read_text()
    assert not SUBSTITUTION.search(text), SUBSTITUTION.search(text).group(0)


@pytest.mark.parametrize("caption", CAPTIONS, ids=[p.stem for p in CAPTIONS])
def test_caption_quotes_only_config_keys_that_exist(caption, written_config):
    text = caption.read_text()
    for match in CONFIG_LOOKUP.finditer(text):
        path = re.findall(r'\["([^"]+)"\]', match.group(1))
        assert _has_key(written_config, path), f"{caption.name}: config{match.group(1)}"
    for match in DOTTED_KEY.finditer(text):
        path = match.group(1).split(".")
        if path[0] in written_config and isinstance(written_config[path[0]], dict):
            assert _has_key(written_config, path), f"{caption.name}: {match.group(1)}"
