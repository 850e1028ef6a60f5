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
    assert [
        m.group(1) for m in DOTTED_KEY.finditer("see ``analysis.rois`` and noise.flinch_mm.")
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


class _Anything:
    """Stands in for snakemake.params / wildcards / input: any attribute is a placeholder."""

    def __getattr__(self, name: str) -> _Anything:
        return _Anything()

    def __str__(self) -> str:
        return "<value>"

    def __getitem__(self, name: str) -> _Anything:
        return _Anything()


def _strict_join(value, separator: str = "") -> str:
    """Jinja's join, but refusing a mapping (joining a dict prints its keys, not its values)."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        raise TypeError(f"join of a mapping: {sorted(value)}")
    return separator.join(str(v) for v in value)


def _render(caption, config: dict) -> str:
    import jinja2

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters["join"] = _strict_join
    snakemake = _Anything()
    snakemake.config = config  # params, wildcards, rule ...: placeholders
    return environment.from_string(caption.read_text()).render(snakemake=snakemake, files=[])


@pytest.mark.parametrize("source", ["simulated", "bids_dir"])
@pytest.mark.parametrize("caption", CAPTIONS, ids=[p.stem for p in CAPTIONS])
def test_caption_renders_with_every_value_it_quotes(caption, source, written_config):
    """Every quoted key renders to its value (no dict joined as its keys, no missing key)."""
    import copy

    config = copy.deepcopy(written_config)
    if source == "bids_dir":
        config["analysis"]["bids_dir"] = "/data/study"
    text = _render(caption, config)
    assert "{'" not in text and "['" not in text, text  # no Python repr in the text


def test_caption_check_catches_a_joined_mapping(written_config, tmp_path):
    caption = tmp_path / "bad.rst"
    caption.write_text('{{ snakemake.config["analysis"]["confounds"] | join(", ") }}')
    with pytest.raises(TypeError, match="join of a mapping"):
        _render(caption, written_config)
