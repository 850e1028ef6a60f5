"""Read a study configuration from YAML and validate it against the schema."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from empathy_fmri.config.checks import cross_field_problems
from empathy_fmri.config.schema import fill_defaults, load_schema, schema_problems

__all__ = [
    "ConfigError",
    "duplicate_key_problems",
    "load_config",
    "read_yaml",
    "validate_config",
]


class ConfigError(ValueError):
    """A configuration value is missing, malformed or inconsistent."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping.

    PyYAML (and so Snakemake's ``configfile:``) keeps the last value of a
    repeated key without a word; a config edited by hand then silently uses
    the other value.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(
                    f"key '{key}' is given twice in one mapping (lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1}); YAML would silently keep the second"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file, refusing repeated keys.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    ConfigError
        If the file does not exist, is not valid YAML or repeats a key; the
        message names the file.
    """
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except ConfigError as err:
        raise ConfigError(f"config file '{path}': {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file '{path}' is not valid YAML: {err}") from None


def duplicate_key_problems(paths: Sequence[str | Path]) -> list[str]:
    """Say which config files repeat a key.

    Parameters
    ----------
    paths : sequence of path
        Config files (e.g. the ones Snakemake read).

    Returns
    -------
    list of str
        One message per file that repeats a key.
    """
    problems = []
    for path in paths:
        try:
            read_yaml(path)
        except ConfigError as err:
            if "given twice" in str(err):
                problems.append(str(err))
    return problems


def load_config(path: str | Path, schema_path: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML study configuration and validate it.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file, e.g. ``config.yaml``.
    schema_path : str or pathlib.Path, optional
        JSON Schema to validate against; the packaged schema by default.

    Returns
    -------
    dict
        The configuration with schema defaults filled in.

    Raises
    ------
    ConfigError
        If the file cannot be read or parsed, or the configuration is invalid.
    """
    return validate_config(read_yaml(path), schema_path)


def validate_config(
    config: Mapping[str, Any], schema_path: str | Path | None = None
) -> dict[str, Any]:
    """Check a configuration against the schema and the cross-field rules.

    Checks that need the anatomy or the noise model are not made here; the
    workflow and :func:`empathy_fmri.pipeline.study_config.check_study_config`
    add them.

    Parameters
    ----------
    config : mapping
        The configuration as read from YAML.
    schema_path : str or pathlib.Path, optional
        JSON Schema to validate against; the packaged schema by default.

    Returns
    -------
    dict
        A deep copy of ``config`` with schema defaults filled in.

    Raises
    ------
    ConfigError
        With a message naming every offending key and what it allows.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"the configuration must be a mapping of keys to values, got {type(config).__name__}"
        )
    schema = load_schema(schema_path)
    config = copy.deepcopy(dict(config))
    messages = schema_problems(config, schema)
    if messages:
        raise ConfigError("invalid configuration: " + "; ".join(messages))
    fill_defaults(config, schema)
    problems = cross_field_problems(config)
    if problems:
        raise ConfigError("inconsistent configuration: " + "; ".join(problems))
    return config
