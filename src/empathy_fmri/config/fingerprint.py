"""A short fingerprint of a configuration, written into every output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from empathy_fmri.config.sections import section_dict

__all__ = [
    "config_hash",
]


def config_hash(config: Mapping[str, Any] | Any) -> str:
    """Return a short SHA-256 fingerprint of a configuration or of some of its sections.

    Parameters
    ----------
    config : mapping or section
        A validated configuration, a part of one, or a typed section.

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 of its canonical JSON, written
        into every output so that a file can be traced to the config that made it.
        Numbers are hashed as floats, so ``3`` and ``3.0`` (YAML's integer and
        the typed section's float) give the same fingerprint.
    """
    canonical = json.dumps(
        _numbers_as_float(section_dict(config)),
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _numbers_as_float(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _numbers_as_float(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers_as_float(v) for v in value]
    return value
