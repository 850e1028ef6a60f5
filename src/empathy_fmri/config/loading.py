"""Read a study configuration from YAML and validate it against the schema."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from empathy_fmri.config.checks import cross_field_problems
from empathy_fmri.config.schema import fill_defaults, load_schema, schema_problems

__all__ = [
    "ConfigError",
    "load_config",
    "validate_config",
]


class ConfigError(ValueError):
    """A configuration value is missing, malformed or inconsistent."""


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
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file '{path}' is not valid YAML: {err}") from None
    return validate_config(config, schema_path)


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
