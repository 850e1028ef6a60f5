"""The complete check of a study configuration, before any job runs.

:func:`empathy_fmri.config.validate_config` checks the schema and the
cross-field rules; this adds the checks that need the anatomy (ROI centres in
the brain, in grey matter, on the simulation grid; a dataset from elsewhere,
``analysis.bids_dir``, has its ROIs checked on its own grid inside its brain
masks by the job ``roi_coverage``) and the noise model (reachable smoothness).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from empathy_fmri.anatomy.placement import roi_placement_problems
from empathy_fmri.config import ConfigError, load_config, validate_config
from empathy_fmri.simulation.feasibility import noise_problems

__all__ = [
    "check_study_config",
    "load_study_config",
]


def check_study_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a configuration completely: schema, cross-field, anatomy and noise.

    Parameters
    ----------
    config : mapping
        The configuration as read from YAML.

    Returns
    -------
    dict
        A deep copy with schema defaults filled in.

    Raises
    ------
    ConfigError
        With a message naming every offending key.
    """
    checked = validate_config(config)
    anatomy, analysis, regions = checked["anatomy"], checked["analysis"], checked["regions"]
    # the a-priori ROIs are measured on the grid the analysis reads: the simulation's,
    # or for a dataset from elsewhere its own, inside its brain masks (rule roi_coverage)
    analysed_here = (
        []
        if analysis["bids_dir"]
        else roi_placement_problems(
            analysis["rois"],
            analysis["roi_radius_mm"],
            anatomy["voxel_size_mm"],
            anatomy["grey_matter_threshold"],
            min_voxels=analysis["min_roi_voxels"],
            key="analysis",
        )
    )
    problems = (
        noise_problems(checked)
        + analysed_here
        + roi_placement_problems(
            regions["centres"],
            regions["radius_mm"],
            anatomy["voxel_size_mm"],
            anatomy["grey_matter_threshold"],
            min_voxels=analysis["min_roi_voxels"],
            key="regions",
        )
    )
    coarse = checked.get("power", {}).get("replicates", {}).get("voxel_size_mm")
    if coarse is not None and coarse != anatomy["voxel_size_mm"]:
        problems += [
            f"on the replicate studies' grid ('power.replicates.voxel_size_mm' = {coarse}) "
            + problem
            for problem in roi_placement_problems(
                analysis["rois"],
                analysis["roi_radius_mm"],
                coarse,
                anatomy["grey_matter_threshold"],
                min_voxels=analysis["min_roi_voxels"],
                key="analysis",
            )
        ]
    if problems:
        raise ConfigError("inconsistent configuration: " + "; ".join(problems))
    return checked


def load_study_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML study configuration and validate it completely.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file.

    Returns
    -------
    dict
        The checked configuration (see :func:`check_study_config`).

    Raises
    ------
    ConfigError
        If the file cannot be read or the configuration is invalid.
    """
    return check_study_config(load_config(path))
