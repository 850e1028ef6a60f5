"""Complete simulated studies in memory: the workflow's steps minus the files.

A replicate study runs the same in-memory steps as the workflow's jobs
(:mod:`empathy_fmri.pipeline`): simulate every subject, fit the first level,
the group map with FDR and permutation FWE, place the ROIs of every selection
(a-priori, group peak, behaviour peak and its cross-fitted version, from the
replicate's own maps and simulated dilemma scores), fit the ROI-mean GLMs and
correlate them with the scores. Replicates use the coarse grid and
sample size of ``power.replicates`` and differ only in their seed; ``null``
replicates plant no needle-minus-swab effect, so every voxel of their FWE map
is a false positive.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.analysis.first_level import analysis_mask, confound_regressors
from empathy_fmri.analysis.roi import roi_masks
from empathy_fmri.anatomy.spheres import voxel_coordinates_mm
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config import StudyConfig, validate_config
from empathy_fmri.config.sections import AnalysisConfig, SignalConfig
from empathy_fmri.evaluation.map_accuracy import map_accuracy
from empathy_fmri.evaluation.measurement import (
    MeasurementModel,
    add_run_variation,
    calibrate_measurement,
    calibrate_roi_glm,
    effect_free_positions,
    null_distance_mm,
    null_position_masks,
    signal_gain,
)
from empathy_fmri.evaluation.monte_carlo import power_rng, simulate_correlations
from empathy_fmri.evaluation.replicates import pool_calibrations
from empathy_fmri.pipeline.brain_behaviour import brain_behaviour_step
from empathy_fmri.pipeline.first_level import first_level_step
from empathy_fmri.pipeline.group import group_step
from empathy_fmri.pipeline.roi import (
    ALL,
    NULL_POSITION,
    masks_from_centres,
    roi_definitions,
    roi_glm_step,
    roi_step,
)
from empathy_fmri.pipeline.simulated_subject import simulate_subject_data
from empathy_fmri.simulation.subject import build_space

logger = logging.getLogger(__name__)


#: Replicate kinds: with the configured effects, and with none at all.
KINDS = ("effect", "null")


@dataclass
class ReplicateResult:
    """Everything one replicate study yields.

    Attributes
    ----------
    correlations : pandas.DataFrame
        :func:`~empathy_fmri.analysis.brain_behaviour.brain_behaviour_table`
        of every ROI selection (``selection`` column).
    calibration : pandas.DataFrame
        :func:`~empathy_fmri.evaluation.power.calibrate_measurement` of its first level.
    amplitudes : pandas.DataFrame
        ``participant_id``, ``roi``, ``estimate`` (a-priori ROI) and ``true``
        amplitude (psc).
    maps : pandas.DataFrame
        :func:`~empathy_fmri.evaluation.validation.map_accuracy` of the FDR and FWE maps.
    summary : dict
        Replicate index, kind, seed, sample size, voxels above each threshold
        and whether the FWE map had any false-positive voxel.
    """

    correlations: pd.DataFrame
    calibration: pd.DataFrame
    amplitudes: pd.DataFrame
    maps: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def replicate_config(config: Mapping[str, Any], index: int, null: bool = False) -> dict[str, Any]:
    """The configuration of one replicate study.

    Parameters
    ----------
    config : mapping
        The validated study configuration (with a ``power.replicates`` section).
    index : int
        Zero-based replicate index.
    null : bool
        Plant no needle-minus-swab effect (every ``mean_psc`` and ``sd_psc`` 0).

    Returns
    -------
    dict
        A validated copy with the replicate's seed (spawned from ``seed +
        power.seed_offset``, distinct for every index and kind), sample size,
        voxel size and FWE permutations.
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    settings = config["power"]["replicates"]
    replicate = copy.deepcopy(dict(config))
    sequence = np.random.SeedSequence(
        config["seed"] + config["power"]["seed_offset"], spawn_key=(2, int(null), index)
    )
    replicate["seed"] = int(sequence.generate_state(1)[0] & 0x7FFFFFFF)
    replicate["n_subjects"] = settings["n_subjects"]
    replicate["anatomy"]["voxel_size_mm"] = settings["voxel_size_mm"]
    replicate["analysis"]["n_permutations"] = settings["n_permutations"]
    if null:
        for model in replicate["signal"]["rois"].values():
            model["mean_psc"] = 0.0
            model["sd_psc"] = 0.0
    return validate_config(replicate)


def _true_regions(signal: SignalConfig, space: Any) -> dict[str, np.ndarray]:
    return {name: mask for name, mask in space.region_masks.items() if signal.rois[name].varies}


def _selection_box(
    independent: pd.DataFrame, analysis: AnalysisConfig, mask_img: nib.Nifti1Image
) -> tuple[slice, slice, slice]:
    """Bounding box of every voxel a data-selected ROI can hold.

    Within ``selection_search_radius_mm`` plus the ROI radius of an a-priori
    centre (the ``independent`` rows of :func:`roi_definitions`), and a voxel
    of margin.
    """
    coords = voxel_coordinates_mm(mask_img.affine, mask_img.shape[:3])
    inside = np.zeros(mask_img.shape[:3], bool)
    for row in independent.itertuples():
        reach = analysis.selection_search_radius_mm + float(row.radius_mm)
        inside |= np.linalg.norm(coords - np.array([row.x, row.y, row.z]), axis=-1) <= reach
    index = np.argwhere(inside)
    low = np.maximum(index.min(axis=0) - 1, 0)
    high = np.minimum(index.max(axis=0) + 2, mask_img.shape[:3])
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))


def _crop(img: nib.Nifti1Image, box: tuple[slice, slice, slice]) -> nib.Nifti1Image:
    """A copy of the part of a 4D image inside a box, with the affine that places it."""
    part = img.slicer[box]
    return nib.Nifti1Image(np.array(part.dataobj), part.affine)


def run_replicate(
    config: Mapping[str, Any], index: int, null: bool = False, space: Any = None
) -> ReplicateResult:
    """Run one complete simulated study in memory, with the workflow's own steps.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    index : int
        Zero-based replicate index.
    null : bool
        A study with no needle-minus-swab effect at all.
    space : SimulationSpace, optional
        :func:`~empathy_fmri.simulation.subject.build_space` of the replicate grid, to
        reuse across replicates.

    Returns
    -------
    ReplicateResult
    """
    study = StudyConfig.from_dict(replicate_config(config, index, null))
    simulation, analysis, anatomy = study.simulation, study.analysis, study.anatomy
    space = space or build_space(anatomy, study.regions, study.signal)
    effects: dict[str, Any] = {}
    variances = []
    behaviour, truth_rows = [], []
    mask_img = centres = roi_masks_ = box = None
    roi_glm: dict[str, pd.DataFrame] = {}
    kept: dict[str, tuple[list[nib.Nifti1Image], Any, Any]] = {}
    threshold = anatomy.grey_matter_threshold
    tr_s = float(study.design.tr)
    for subject_index in range(study.n_subjects):
        subject = simulate_subject_data(simulation, subject_index, study.n_subjects, space)
        if mask_img is None:
            mask_img = analysis_mask(subject.images[0])
            reference = nib.Nifti1Image(np.zeros(mask_img.shape, np.uint8), mask_img.affine)
            centres = roi_definitions(reference, anatomy, analysis, selections=("independent",))
            roi_masks_ = masks_from_centres(centres, reference, threshold)
            null_masks = null_position_masks(
                roi_masks_[("independent", ALL, ALL)],
                analysis.rois,
                mask_img.affine,
                np.asarray(mask_img.dataobj) > 0,
                null_distance_mm(analysis.roi_radius_mm, analysis.smoothing_fwhm_mm, 0.0),
            )
            box = _selection_box(centres, analysis, mask_img)
        regressors = confound_regressors(subject.confounds, analysis.confounds)
        fit = first_level_step(
            subject.images,
            subject.events,
            regressors,
            tr_s,
            analysis,
            mask_img=mask_img,
        )
        participant = subject.truth.participant_id
        roi_glm[participant] = roi_glm_step(
            subject.images,
            subject.events,
            regressors,
            tr_s,
            analysis,
            roi_masks_,
            null_masks,
        )
        # the data-selected ROIs are placed once every subject is in; keep only the
        # part of the BOLD they can reach
        kept[participant] = (
            [_crop(img, box) for img in subject.images],
            subject.events,
            regressors,
        )
        effects[participant] = fit.maps["needleMinusSwab"]["effect"]
        variances.append(fit.maps["needleMinusSwab"]["variance"])
        behaviour.append({"participant_id": participant, **subject.behaviour})
        truth_rows += [
            {"participant_id": participant, "roi": name, "true": value}
            for name, value in subject.truth.needle_minus_swab_psc.items()
        ]
    group = group_step(list(effects.values()), analysis, study.seed, mask_img=mask_img)
    phenotype = pd.DataFrame(behaviour).set_index("participant_id")
    centres = roi_definitions(group.z, anatomy, analysis, effect_imgs=effects, phenotype=phenotype)
    selected = centres[centres["selection"] != "independent"]
    for participant, (images, events, confounds) in kept.items():
        masks = masks_from_centres(selected, group.z, threshold, participant)
        cropped = {
            key: {roi: mask[box] for roi, mask in inner.items()} for key, inner in masks.items()
        }
        fits = roi_glm_step(images, events, confounds, tr_s, analysis, cropped)
        roi_glm[participant] = pd.concat([roi_glm[participant], fits], ignore_index=True)
    del kept
    roi_table = roi_step(effects, centres, group.z, threshold, analysis, roi_glm)
    correlations = brain_behaviour_step(roi_table, phenotype, analysis, study.seed)
    smoothing = analysis.smoothing_fwhm_mm
    if analysis.roi_estimate == "roi_mean_glm":
        # every candidate position was fitted while the subjects were simulated;
        # those the group map shows an effect in are dropped, as in the workflow
        kept = effect_free_positions(null_masks, np.asarray(group.z.dataobj))
        null_fits = pd.concat(
            [fit[fit["selection"] == NULL_POSITION] for fit in roi_glm.values()], ignore_index=True
        )
        usable = [
            k in kept[roi] for roi, k in zip(null_fits["roi"], null_fits["position"], strict=True)
        ]
        null_fits = null_fits[usable]
        calibration = calibrate_roi_glm(roi_table, null_fits)
    else:
        affine = group.z.affine
        grey = grey_matter_on(group.z, threshold)
        masks = roi_masks(analysis.rois, analysis.roi_radius_mm, affine, grey)
        calibration = calibrate_measurement(
            list(effects.values()),
            variances,
            masks,
            analysis.rois,
            affine,
            min_distance_mm=null_distance_mm(
                analysis.roi_radius_mm, smoothing, study.noise.fwhm_mm
            ),
        )
        calibration["estimate"] = analysis.roi_estimate
    independent = roi_table[roi_table["selection"] == "independent"]
    amplitudes = independent.rename(columns={"needle_minus_swab": "estimate"}).merge(
        pd.DataFrame(truth_rows), on=["participant_id", "roi"]
    )[["participant_id", "roi", "estimate", "true"]]
    brain = np.asarray(mask_img.dataobj) > 0
    true_regions = _true_regions(study.signal, space)
    margin = study.validation.near_margin_mm
    maps = []
    for threshold, image in (("fdr", group.z_fdr), ("fwe", group.z_fwe)):
        table = map_accuracy(
            np.asarray(image.dataobj) > 0,
            true_regions,
            brain,
            float(anatomy.voxel_size_mm),
            margin,
        )
        table.insert(0, "threshold", threshold)
        maps.append(table)
    # the unthresholded group z peak inside each true region, as papers report it
    z_values = np.asarray(group.z.dataobj)
    peaks = {name: float(z_values[mask].max()) for name, mask in true_regions.items() if mask.any()}
    maps_table = pd.concat(maps, ignore_index=True)
    maps_table["peak_z"] = maps_table["region"].map(peaks)
    outside = maps_table[maps_table["region"] == "outside"].set_index("threshold")
    distant = maps_table[maps_table["region"] == "distant"].set_index("threshold")
    kind = KINDS[int(null)]
    summary = {
        "replicate": index,
        "kind": kind,
        "seed": study.seed,
        "n_subjects": study.n_subjects,
        "voxel_size_mm": anatomy.voxel_size_mm,
        "n_permutations": int(analysis.n_permutations),
        "n_voxels_fdr": int((np.asarray(group.z_fdr.dataobj) > 0).sum()),
        "n_voxels_fwe": int((np.asarray(group.z_fwe.dataobj) > 0).sum()),
        "n_false_positive_fdr": int(outside.loc["fdr", "n_detected"]),
        "n_false_positive_fwe": int(outside.loc["fwe", "n_detected"]),
        "n_distant_false_positive_fwe": int(distant.loc["fwe", "n_detected"]),
        "family_wise_false_positive": bool(outside.loc["fwe", "n_detected"] > 0),
        "family_wise_distant_false_positive": bool(distant.loc["fwe", "n_detected"] > 0),
    }
    for table in (correlations, calibration, amplitudes, maps_table):
        table.insert(0, "kind", kind)
        table.insert(0, "replicate", index)
    logger.info(
        "replicate %s %d: %d subjects, %d FWE voxels (%d outside the true regions)",
        kind,
        index,
        study.n_subjects,
        summary["n_voxels_fwe"],
        summary["n_false_positive_fwe"],
    )
    return ReplicateResult(correlations, calibration, amplitudes, maps_table, summary)


def _run_chunk(
    config: Mapping[str, Any], indices: Sequence[int], null: bool
) -> list[ReplicateResult]:
    """Run several replicates with one simulation space and single-threaded BLAS."""
    from contextlib import nullcontext

    try:
        from threadpoolctl import threadpool_limits

        limit: Any = threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limit = nullcontext()
    with limit:
        first = StudyConfig.from_dict(replicate_config(config, 0, null))
        space = build_space(first.anatomy, first.regions, first.signal)
        return [run_replicate(config, index, null, space) for index in indices]


def run_replicates(
    config: Mapping[str, Any], n_replicates: int, null: bool = False, n_jobs: int = 1
) -> list[ReplicateResult]:
    """Run replicate studies 0 to ``n_replicates - 1``, optionally in parallel.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    n_replicates : int
        Replicate studies to run.
    null : bool
        Studies with no needle-minus-swab effect at all.
    n_jobs : int
        Worker processes (``spawn``ed; each runs a share of the replicates
        with single-threaded BLAS).

    Returns
    -------
    list of ReplicateResult
        In replicate order; the same whatever ``n_jobs``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if n_replicates < 1:
        raise ValueError(f"n_replicates must be at least 1, got {n_replicates}")
    indices = list(range(n_replicates))
    n_jobs = max(1, min(int(n_jobs), n_replicates))
    if n_jobs == 1:
        return _run_chunk(config, indices, null)
    chunks = [indices[k::n_jobs] for k in range(n_jobs)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_jobs, mp_context=context) as pool:
        parts = list(pool.map(_run_chunk, [dict(config)] * n_jobs, chunks, [null] * n_jobs))
    results = [result for part in parts for result in part]
    return sorted(results, key=lambda result: result.summary["replicate"])


def fast_mode_for_replicates(
    config: Mapping[str, Any], calibration: pd.DataFrame, n_studies: int
) -> tuple[dict[tuple[str, str], np.ndarray], pd.DataFrame]:
    """Fast Monte Carlo r at the replicates' design, calibrated on their first levels.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    calibration : pandas.DataFrame
        Calibrations of the effect replicates (pooled here).
    n_studies : int
        Fast-mode studies.

    Returns
    -------
    fast_r : dict of (roi, score) to numpy.ndarray
        Simulated r per pair.
    model : pandas.DataFrame
        The pooled calibration with the ``gain`` used.
    """
    study = StudyConfig.from_dict(replicate_config(config, 0))
    pooled = pool_calibrations(calibration)
    gain = signal_gain(study.anatomy, study.regions, study.signal, study.analysis)
    pooled["gain"] = [gain.get(name, 0.0) for name in pooled["roi"]]
    pooled = add_run_variation(pooled, study.signal.run_sd_psc, study.design.n_runs)
    model = MeasurementModel.from_table(pooled)
    rng = power_rng(config["seed"], config["power"]["seed_offset"], 3, study.n_subjects)
    rois = list(study.analysis.rois)
    scores = list(study.analysis.scores)
    r = simulate_correlations(
        study.signal.for_rois(rois),
        study.behaviour,
        scores,
        study.n_subjects,
        n_studies,
        rng,
        model,
    )
    fast = {
        (roi, score): r[:, i, j] for i, roi in enumerate(rois) for j, score in enumerate(scores)
    }
    return fast, pooled
