"""The JSON Schema of a study configuration: where it lives, its messages, its defaults.

The schema (``config.schema.yaml``, shipped inside this package) holds every
key's type, range, default and description. :func:`schema_problems` turns a
validator's findings into one-paragraph messages that name the offending key.
"""

from __future__ import annotations

import copy
import difflib
import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = [
    "default_schema_path",
    "fill_defaults",
    "load_schema",
    "schema_problems",
    "typed_command_line_values",
]


def default_schema_path() -> Path:
    """Return the path of the JSON Schema that ships with the package.

    Returns
    -------
    pathlib.Path
        ``config.schema.yaml`` inside the installed ``empathy_fmri.config``
        package (editable or not).
    """
    return Path(str(resources.files("empathy_fmri.config") / "config.schema.yaml"))


@functools.lru_cache(maxsize=8)
def _read_schema(path: str) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def load_schema(schema_path: str | Path | None = None) -> dict[str, Any]:
    """Read a JSON Schema written as YAML.

    Parameters
    ----------
    schema_path : str or pathlib.Path, optional
        The schema file; :func:`default_schema_path` if None.

    Returns
    -------
    dict
        The schema (a fresh copy, safe to modify).
    """
    return copy.deepcopy(_read_schema(str(schema_path or default_schema_path())))


def schema_problems(
    config: Mapping[str, Any], schema: Mapping[str, Any], limit: int = 5
) -> list[str]:
    """Describe every way a configuration breaks its schema.

    Parameters
    ----------
    config : mapping
        The configuration as read from YAML.
    schema : mapping
        From :func:`load_schema`.
    limit : int
        Describe at most this many problems; a last item counts the rest.

    Returns
    -------
    list of str
        One message per problem, each naming the key; empty if valid.
    """
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    messages = [_describe(error, schema) for error in errors[:limit]]
    if len(errors) > limit:
        messages.append(f"and {len(errors) - limit} more")
    return messages


def fill_defaults(config: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Fill in, in place, every default the schema declares for a missing key.

    Parameters
    ----------
    config : dict
        A configuration that passed :func:`schema_problems`.
    schema : mapping
        From :func:`load_schema`.
    """
    _fill_defaults(config, schema, schema)


def _key(path: Any) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in path]
    return ".".join(parts).replace(".[", "[") or "<top level>"


def _subschema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        return {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _describe(error: jsonschema.ValidationError, root: Mapping[str, Any]) -> str:
    key = _key(error.absolute_path)
    schema = _subschema(error.schema, root)
    value = error.instance
    hint = f" ({schema['description']})" if isinstance(schema.get("description"), str) else ""
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        prefix = "" if key == "<top level>" else key + "."
        return f"config key '{prefix}{missing}' is missing"
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in value if k not in allowed] if isinstance(value, Mapping) else []
        prefix = "" if key == "<top level>" else key + "."
        replaced = schema.get("x-replaced", {})
        parts = []
        for name in extra:
            if name in replaced:
                parts.append(f"config key '{prefix}{name}' is no longer used: {replaced[name]}")
                continue
            close = difflib.get_close_matches(str(name), allowed, n=1)
            suggestion = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            parts.append(
                f"unknown config key '{prefix}{name}' (allowed under "
                f"'{key}': {', '.join(allowed)}){suggestion}"
            )
        return "; ".join(parts) or f"config key '{key}' has unknown keys"
    if kind == "type":
        return (
            f"config key '{key}' must be of type {error.validator_value}, "
            f"got {value!r} ({type(value).__name__}){hint}"
        )
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        word = {
            "minimum": "at least",
            "exclusiveMinimum": "greater than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }[kind]
        return f"config key '{key}' is {value!r} but must be {word} {error.validator_value}{hint}"
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"config key '{key}' is {value!r} but must be one of {allowed}{hint}"
    if kind in ("minItems", "maxItems"):
        return f"config key '{key}' has {len(value)} items: {error.message}{hint}"
    if kind == "pattern":
        return f"config key '{key}' = {value!r} does not match the pattern {error.validator_value}"
    if kind == "propertyNames":
        return f"config key '{key}' has an invalid name: {error.message}"
    return f"config key '{key}': {error.message}{hint}"


def _fill_defaults(instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> None:
    schema = _subschema(schema, root)
    if not isinstance(instance, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        sub = _subschema(sub, root)
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
        if name in instance:
            _fill_defaults(instance[name], sub, root)


def typed_command_line_values(
    overrides: Mapping[str, Any], schema: Mapping[str, Any]
) -> dict[str, Any]:
    """Give command-line config values the types the schema declares.

    Snakemake reads ``--config noise='{tsnr: 50}'`` with YAML's base loader,
    so every value inside a nested mapping arrives as a string. This turns
    each such string into the number, integer or boolean the schema asks for
    at its key (``'50'`` -> ``50``); a string that does not parse, or a key the
    schema does not know, is left as it is for validation to report.

    Parameters
    ----------
    overrides : mapping
        The values given with ``--config`` (Snakemake's ``overwrite_config``).
    schema : mapping
        From :func:`load_schema`.

    Returns
    -------
    dict
        A copy of ``overrides`` with typed leaves.
    """
    return _typed(copy.deepcopy(dict(overrides)), schema, schema)


def _typed(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    schema = _subschema(schema, root)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, Mapping) else None)
            if sub is not None:
                value[key] = _typed(item, sub, root)
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [_typed(v, items, root) for v in value] if isinstance(items, Mapping) else value
    if not isinstance(value, str):
        return value
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if "string" in kinds:
        return value
    parsed = yaml.safe_load(value) if value.strip() else value
    if isinstance(parsed, bool):
        return parsed if "boolean" in kinds else value
    if "integer" in kinds and isinstance(parsed, int):
        return parsed
    if "number" in kinds and isinstance(parsed, int | float):
        return parsed
    if "null" in kinds and parsed is None:
        return None
    return value
