"""Checks that a configured noise model can be simulated on the configured grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empathy_fmri.simulation.noise import max_fwhm_mm

__all__ = [
    "noise_problems",
]


def noise_problems(config: Mapping[str, Any]) -> list[str]:
    """Say which noise settings the simulator cannot reach.

    Parameters
    ----------
    config : mapping
        A configuration that passed :func:`empathy_fmri.config.validate_config`.

    Returns
    -------
    list of str
        One message per problem, naming the config keys; empty when all is well.
    """
    noise = config["noise"]
    voxel = config["anatomy"]["voxel_size_mm"]
    largest = max_fwhm_mm(voxel, noise["thermal_share"])
    if noise["fwhm_mm"] < largest:
        return []
    return [
        f"'noise.fwhm_mm' ({noise['fwhm_mm']}) cannot be reached with "
        f"'noise.thermal_share' = {noise['thermal_share']} of spatially white noise at "
        f"'anatomy.voxel_size_mm' = {voxel}: the most is {largest:.1f} mm; lower "
        "'noise.fwhm_mm' or 'noise.thermal_share'"
    ]
