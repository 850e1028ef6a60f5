"""Cross-field checks of a configuration that a JSON Schema cannot express.

Durations that must fit, ROI names that must agree across sections, a
high-pass filter that must not remove the task. Checks that need the anatomy
or the noise model live with those (``empathy_fmri.anatomy.placement``,
``empathy_fmri.simulation.feasibility``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "cross_field_problems",
]


def cross_field_problems(config: Mapping[str, Any]) -> list[str]:
    """List the inconsistencies between the sections of a configuration.

    Parameters
    ----------
    config : mapping
        A configuration that passed the schema, with defaults filled in.

    Returns
    -------
    list of str
        One message per problem, each naming the keys involved; empty if none.
    """
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
