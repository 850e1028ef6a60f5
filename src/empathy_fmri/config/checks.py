"""Cross-field checks of a configuration that a JSON Schema cannot express.

Durations that must fit, ROI names that must agree across sections, a
high-pass filter that must not remove the task. Checks that need the anatomy
or the noise model live with those (``empathy_fmri.anatomy.placement``,
``empathy_fmri.simulation.feasibility``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "cross_field_problems",
    "non_finite_problems",
    "statistical_problems",
    "statistical_warnings",
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
    problems = non_finite_problems(config)
    if problems:
        return problems
    region_names = set(config["regions"]["centres"])
    signal_rois = set(config["signal"]["rois"])
    for name in sorted(signal_rois - region_names):
        problems.append(
            f"region 'signal.rois.{name}' has no centre in 'regions.centres' "
            f"(known regions: {', '.join(sorted(region_names))})"
        )
    for name in sorted(region_names - signal_rois):
        problems.append(
            f"region 'regions.centres.{name}' has no amplitude model in 'signal.rois' "
            "(add mean_psc, sd_psc and trait_coupling for it)"
        )
    overlap = region_names & set(config["regions"].get("visual", {}))
    for name in sorted(overlap):
        problems.append(f"'{name}' is both in 'regions.centres' and in 'regions.visual'")

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
    voxel = config["anatomy"]["voxel_size_mm"]
    radius = analysis["roi_radius_mm"]
    if radius < voxel:
        problems.append(
            f"'analysis.roi_radius_mm' ({radius}) is smaller than "
            f"'anatomy.voxel_size_mm' ({voxel}); an ROI would hold at most one voxel"
        )
    problems += analysis_input_problems(analysis)
    replicates = config.get("power", {}).get("replicates", {})
    coarse = replicates.get("voxel_size_mm")
    if coarse is not None and radius < coarse:
        problems.append(
            f"'power.replicates.voxel_size_mm' ({coarse}) is larger than "
            f"'analysis.roi_radius_mm' ({radius}); the replicate "
            "studies' ROIs would hold at most one voxel"
        )
    return problems


#: Scores of the simulated phenotype file.
SIMULATED_SCORES = ("willingness_to_harm", "D", "U")


def analysis_input_problems(analysis: Mapping[str, Any]) -> list[str]:
    """Problems of the keys that say how to read the data: conditions, scores, dilemmas.

    Parameters
    ----------
    analysis : mapping
        The ``analysis`` section, defaults filled in.

    Returns
    -------
    list of str
        One message per problem, naming the key.
    """
    problems = []
    conditions = analysis["conditions"]
    both = sorted(set(conditions["needle"]) & set(conditions["swab"]))
    if both:
        problems.append(
            f"trial type(s) {both} are in both 'analysis.conditions.needle' and "
            "'analysis.conditions.swab'; each trial type can be one condition only"
        )
    if not analysis["bids_dir"]:
        unknown = [s for s in analysis["scores"] if s not in SIMULATED_SCORES]
        if unknown:
            problems.append(
                f"'analysis.scores' lists {unknown}, which the simulated phenotype does not "
                f"have (it has {list(SIMULATED_SCORES)}); other columns exist only in your "
                "own data ('analysis.bids_dir')"
            )
        if analysis.get("dilemmas"):
            problems.append(
                "'analysis.dilemmas' is set, but the simulated phenotype already holds U, D "
                "and willingness_to_harm, scored from its counts with the same model; it is "
                "for your own data ('analysis.bids_dir'): set it to null"
            )
    return problems


def non_finite_problems(config: Any, key: str = "") -> list[str]:
    """Name every number of a configuration that is NaN or infinite.

    JSON Schema's ranges do not reject NaN (every comparison with it is
    false), so ``.nan`` in YAML would pass and surface later as an error about
    something else.

    Parameters
    ----------
    config : object
        A configuration or a part of one.
    key : str
        Key path of ``config`` (for the messages).

    Returns
    -------
    list of str
        One message per non-finite number, naming its key.
    """
    if isinstance(config, Mapping):
        return [
            p
            for k, v in config.items()
            for p in non_finite_problems(v, f"{key}.{k}" if key else str(k))
        ]
    if isinstance(config, list | tuple):
        return [p for i, v in enumerate(config) for p in non_finite_problems(v, f"{key}[{i}]")]
    if isinstance(config, float) and not math.isfinite(config):
        return [f"config key '{key}' is {config}; give a finite number"]
    return []


def statistical_problems(n_subjects: int, analysis: Mapping[str, Any]) -> list[str]:
    """Say which tests of the analysis cannot reach significance with this many subjects.

    The FWE group map uses sign flips: with ``n`` subjects there are ``2^n``
    distinct ones, so no voxel can reach ``p < 1 / 2^n``; the permutation p of
    a correlation cannot go below ``1 / min(n!, n_permutations_stats + 1)``.
    A test whose smallest reachable p is not below ``analysis.alpha`` can never
    find anything, and an empty map would look like a result.

    Parameters
    ----------
    n_subjects : int
        Participants analysed.
    analysis : mapping
        The validated ``analysis`` section.

    Returns
    -------
    list of str
        One message per impossible test; empty when all can reach ``alpha``.
    """
    alpha = analysis["alpha"]
    problems = []
    flips = 2.0**n_subjects
    smallest_fwe = max(1.0 / flips, 1.0 / (analysis["n_permutations"] + 1))
    if smallest_fwe >= alpha:
        remedy = (
            "analyse more subjects" if 1.0 / flips >= alpha else "raise 'analysis.n_permutations'"
        )
        problems.append(
            f"with {n_subjects} subjects the sign-flip FWE test of the group map has at most "
            f"{min(flips, analysis['n_permutations'] + 1):.0f} distinct flips, so its smallest "
            f"p is {smallest_fwe:.3g}, not below 'analysis.alpha' = {alpha}: no voxel could "
            f"ever pass; {remedy}"
        )
    pairings = float(math.factorial(min(n_subjects, 20)))
    smallest_r = 1.0 / min(pairings, analysis["n_permutations_stats"] + 1)
    if smallest_r >= alpha:
        problems.append(
            f"with {n_subjects} subjects and 'analysis.n_permutations_stats' = "
            f"{analysis['n_permutations_stats']} the permutation p of a correlation cannot go "
            f"below {smallest_r:.3g}, not below 'analysis.alpha' = {alpha}; analyse more "
            "subjects or raise 'analysis.n_permutations_stats'"
        )
    return problems


def statistical_warnings(n_subjects: int, analysis: Mapping[str, Any]) -> list[str]:
    """Say which results of the analysis will be missing or empty by construction.

    Unlike :func:`statistical_problems` these do not stop a run: the study can
    still be analysed, but part of its output cannot be what a reader expects.

    * Holm's correction across the ROI x score family of a selection (``m``
      pairs) multiplies the smallest p by ``m``; a permutation p that cannot go
      below ``alpha / m`` can never survive it.
    * A bootstrap resample of ``n`` subjects repeats one subject ``n`` times
      with probability ``n^(1 - n)``; its r is undefined, and scipy's BCa
      interval is then n/a. With ``B`` resamples that happens at least once
      with probability ``1 - (1 - n^(1 - n))^B``; above 5% the intervals will
      usually be missing.

    Parameters
    ----------
    n_subjects : int
        Participants analysed.
    analysis : mapping
        The validated ``analysis`` section (``rois``, ``scores``, ``alpha``,
        ``n_permutations_stats``, ``n_bootstrap``).

    Returns
    -------
    list of str
        One message per foreseeable gap; empty when there is none.
    """
    alpha = analysis["alpha"]
    warnings = []
    family = len(analysis["rois"]) * len(analysis["scores"])
    pairings = float(math.factorial(min(n_subjects, 20)))
    smallest_r = 1.0 / min(pairings, analysis["n_permutations_stats"] + 1)
    if family > 1 and smallest_r * family >= alpha:
        warnings.append(
            f"the permutation p of a correlation cannot go below {smallest_r:.3g}, so after "
            f"Holm's correction across the {family} ROI x score pairs of a selection none can "
            f"pass 'analysis.alpha' = {alpha} (p_corrected >= {smallest_r * family:.3g}); raise "
            f"'analysis.n_permutations_stats' to at least {math.ceil(family / alpha)} for a "
            "corrected result"
        )
    degenerate = 1.0 - (1.0 - float(n_subjects) ** (1 - n_subjects)) ** analysis["n_bootstrap"]
    if degenerate > 0.05:
        warnings.append(
            f"with {n_subjects} subjects a bootstrap resample of them all alike is likely "
            f"(probability {degenerate:.2g} over 'analysis.n_bootstrap' = "
            f"{analysis['n_bootstrap']} resamples), so the bootstrap confidence intervals of "
            "the correlations will be n/a; the Fisher-z intervals remain"
        )
    return warnings
