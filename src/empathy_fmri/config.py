"""Load and check a study configuration.

The JSON Schema in ``workflow/schemas/config.schema.yaml`` holds types, ranges
and defaults; :func:`validate_config` turns its findings into one-paragraph
messages that name the offending key, and adds the checks a schema cannot
express (durations that must fit, ROI names that must agree across sections).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from empathy_fmri.noise import max_fwhm_mm

__all__ = [
    "ConfigError",
    "config_hash",
    "default_schema_path",
    "load_config",
    "validate_config",
]


class ConfigError(ValueError):
    """A configuration value is missing, malformed or inconsistent."""


def default_schema_path() -> Path:
    """Return the path of the JSON Schema that ships with the workflow.

    Returns
    -------
    pathlib.Path
        ``workflow/schemas/config.schema.yaml`` of this repository, or the
        copy packaged with the library when installed without the workflow.
    """
    repo_schema = Path(__file__).resolve().parents[2] / "workflow/schemas/config.schema.yaml"
    if repo_schema.exists():
        return repo_schema
    return Path(str(resources.files("empathy_fmri") / "config.schema.yaml"))


def load_config(path: str | Path, schema_path: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML study configuration and validate it.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file, e.g. ``config.yaml``.
    schema_path : str or pathlib.Path, optional
        JSON Schema to validate against; defaults to the workflow's schema.

    Returns
    -------
    dict
        The configuration with schema defaults filled in.

    Raises
    ------
    ConfigError
        If the file cannot be parsed or the configuration is invalid.
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

    Parameters
    ----------
    config : mapping
        The configuration as read from YAML.
    schema_path : str or pathlib.Path, optional
        JSON Schema to validate against; defaults to the workflow's schema.

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
    schema = yaml.safe_load(Path(schema_path or default_schema_path()).read_text())
    config = copy.deepcopy(dict(config))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        messages = [_describe(error, schema) for error in errors[:5]]
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ConfigError("invalid configuration: " + "; ".join(messages) + more)
    _fill_defaults(config, schema, schema)
    problems = _cross_field_problems(config)
    if not problems:
        from empathy_fmri.anatomy import roi_placement_problems

        anatomy = config["anatomy"]
        problems = roi_placement_problems(
            anatomy["rois"], anatomy["roi_radius_mm"], anatomy["voxel_size_mm"],
            anatomy["grey_matter_threshold"],
        )
    if problems:
        raise ConfigError("inconsistent configuration: " + "; ".join(problems))
    return config


def config_hash(config: Mapping[str, Any]) -> str:
    """Return a short SHA-256 fingerprint of a configuration.

    Parameters
    ----------
    config : mapping
        A validated configuration.

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 of its canonical JSON, written
        into every output so that a file can be traced to the config that made it.
    """
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


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
        parts = []
        for name in extra:
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


def _cross_field_problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    anatomy_rois = set(config["anatomy"]["rois"])
    signal_rois = set(config["signal"]["rois"])
    for name in sorted(signal_rois - anatomy_rois):
        problems.append(
            f"ROI 'signal.rois.{name}' has no centre in 'anatomy.rois' "
            f"(known ROIs: {', '.join(sorted(anatomy_rois))})"
        )
    for name in sorted(anatomy_rois - signal_rois):
        problems.append(
            f"ROI 'anatomy.rois.{name}' has no amplitude model in 'signal.rois' "
            "(add mean_psc, sd_psc and trait_coupling for it)"
        )
    overlap = anatomy_rois & set(config["anatomy"].get("visual_regions", {}))
    for name in sorted(overlap):
        problems.append(f"'{name}' is both an ROI and a visual region in 'anatomy'")

    design = config["design"]
    if design["block_s"] < design["tr"]:
        problems.append(
            f"'design.block_s' ({design['block_s']} s) is shorter than one TR "
            f"('design.tr' = {design['tr']} s)"
        )
    if design["rest_s"] < design["tr"]:
        problems.append(
            f"'design.rest_s' ({design['rest_s']} s) is shorter than one TR "
            f"('design.tr' = {design['tr']} s)"
        )
    run_s = (
        design["lead_in_s"]
        + 2 * design["blocks_per_condition"] * (design["block_s"] + design["rest_s"])
        - design["rest_s"]
        + design["lead_out_s"]
    )
    n_scans = run_s / design["tr"]
    if n_scans > 2000:
        problems.append(
            f"a run would last {run_s:.0f} s = {n_scans:.0f} scans at 'design.tr' = "
            f"{design['tr']} s; at most 2000 scans per run are supported "
            "(lower 'design.blocks_per_condition', 'design.block_s' or 'design.rest_s')"
        )
    analysis = config["analysis"]
    if analysis["high_pass_hz"] > 0:
        period = 1.0 / analysis["high_pass_hz"]
        cycle = 2 * (design["block_s"] + design["rest_s"])
        if cycle > period:
            problems.append(
                f"the task cycle (needle + swab + 2 rests = {cycle:.0f} s) is longer than "
                f"the high-pass period 1/'analysis.high_pass_hz' = {period:.0f} s, so the "
                "drift model would remove the task; lower 'analysis.high_pass_hz'"
            )
        nyquist = 0.5 / design["tr"]
        if analysis["high_pass_hz"] >= nyquist:
            problems.append(
                f"'analysis.high_pass_hz' ({analysis['high_pass_hz']}) must be below the "
                f"Nyquist frequency 0.5/'design.tr' = {nyquist:.3f} Hz"
            )
    noise = config["noise"]
    if noise["physio_psc"] > 0:
        budget_psc = 100.0 / noise["tsnr"]
        if noise["physio_psc"] >= budget_psc:
            problems.append(
                f"'noise.physio_psc' ({noise['physio_psc']}) uses up the whole noise budget "
                f"set by 'noise.tsnr' ({noise['tsnr']}: noise SD = {budget_psc:.3g} psc); "
                f"lower 'noise.physio_psc' below {budget_psc:.3g} or lower 'noise.tsnr'"
            )
    voxel = config["anatomy"]["voxel_size_mm"]
    largest = max_fwhm_mm(voxel, noise["thermal_share"])
    if noise["fwhm_mm"] >= largest:
        problems.append(
            f"'noise.fwhm_mm' ({noise['fwhm_mm']}) cannot be reached with "
            f"'noise.thermal_share' = {noise['thermal_share']} of spatially white noise at "
            f"'anatomy.voxel_size_mm' = {voxel}: the most is {largest:.1f} mm; lower "
            "'noise.fwhm_mm' or 'noise.thermal_share'"
        )
    if config["anatomy"]["roi_radius_mm"] < voxel:
        problems.append(
            f"'anatomy.roi_radius_mm' ({config['anatomy']['roi_radius_mm']}) is smaller than "
            f"'anatomy.voxel_size_mm' ({voxel}); an ROI would hold at most one voxel"
        )
    replicates = config.get("power", {}).get("replicates", {})
    coarse = replicates.get("voxel_size_mm")
    if coarse is not None and config["anatomy"]["roi_radius_mm"] < coarse:
        problems.append(
            f"'power.replicates.voxel_size_mm' ({coarse}) is larger than "
            f"'anatomy.roi_radius_mm' ({config['anatomy']['roi_radius_mm']}); the replicate "
            "studies' ROIs would hold at most one voxel"
        )
    return problems
