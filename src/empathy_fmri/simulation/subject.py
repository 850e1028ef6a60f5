"""Simulate one subject's BOLD runs: signal plus every noise component.

``bold = baseline * (1 + task_psc / 100) + thermal/system + physio + drift + motion``,
computed on the voxels of the brain mask as ``(n_scans, n_voxels)`` arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import Anatomy, load_anatomy
from empathy_fmri.config.sections import (
    AnatomyConfig,
    RegionsConfig,
    SignalConfig,
    SimulationConfig,
)
from empathy_fmri.simulation.activation import activation_psc, roi_profile
from empathy_fmri.simulation.design import BlockDesign, block_order, run_events
from empathy_fmri.simulation.motion import (
    confounds_table,
    motion_effect,
    motion_parameters,
    realignment_estimate,
)
from empathy_fmri.simulation.noise import (
    drift,
    gaussian_noise,
    physiological_noise,
    smoothing_sigma_voxels,
)
from empathy_fmri.simulation.population import SubjectTruth
from empathy_fmri.simulation.regions import region_profiles, shape_field
from empathy_fmri.simulation.seeding import subject_rng
from empathy_fmri.task.hrf import condition_regressors, hrf_kernel

__all__ = [
    "SimulatedRun",
    "SimulationSpace",
    "build_space",
    "simulate_subject",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationSpace:
    """Everything about the simulated brain that does not change across subjects.

    Attributes
    ----------
    anatomy : Anatomy
        Grid and tissue maps.
    region_masks : dict of str to numpy.ndarray
        Boolean 3D masks of the simulated regions (irregular, in grey matter,
        disjoint); see :mod:`empathy_fmri.simulation.regions`.
    visual_mask : numpy.ndarray
        Boolean 3D mask of the visual regions.
    baseline : numpy.ndarray
        Baseline intensity of each brain voxel.
    region_profiles : dict of str to numpy.ndarray
        Spatial profile (region mean one) of each region, per brain voxel.
    visual_profile : numpy.ndarray or None
        Profile of the visual regions, per brain voxel.
    gradient : numpy.ndarray
        ``(n_voxels, 3)`` baseline gradient (units/mm), for motion.
    centred_coordinates_mm : numpy.ndarray
        ``(n_voxels, 3)`` voxel positions relative to the brain's centre.
    grey_baseline : float
        Median baseline of grey-matter voxels; the noise SD is this over the tSNR.
    """

    anatomy: Anatomy
    region_masks: dict[str, np.ndarray]
    visual_mask: np.ndarray
    baseline: np.ndarray
    region_profiles: dict[str, np.ndarray]
    visual_profile: np.ndarray | None
    gradient: np.ndarray
    centred_coordinates_mm: np.ndarray
    grey_baseline: float

    @property
    def mask(self) -> np.ndarray:
        """Boolean brain mask whose voxels the arrays run over."""
        return self.anatomy.brain_mask


@dataclass
class SimulatedRun:
    """One simulated run.

    Attributes
    ----------
    bold : numpy.ndarray
        ``(n_scans, n_voxels)`` float32 intensities over the brain mask.
    events : pandas.DataFrame
        BIDS events.
    confounds : pandas.DataFrame
        fMRIPrep-style motion confounds.
    parameters : dict
        Noise parameters drawn for this run (physiological rates, ...).
    """

    bold: np.ndarray
    events: pd.DataFrame
    confounds: pd.DataFrame
    parameters: dict[str, Any]


def build_space(
    anatomy_config: AnatomyConfig,
    regions: RegionsConfig,
    signal: SignalConfig,
    anatomy: Anatomy | None = None,
) -> SimulationSpace:
    """Build the simulated regions, baseline and noise scale from the config.

    Parameters
    ----------
    anatomy_config : AnatomyConfig
        Grid and grey-matter threshold.
    regions : RegionsConfig
        Where the signal is: centres, reach, irregularity, visual regions.
    signal : SignalConfig
        Tissue baselines.
    anatomy : Anatomy, optional
        Pre-loaded anatomy (loaded from ``anatomy_config`` otherwise).

    Returns
    -------
    SimulationSpace
    """
    anat_cfg = anatomy_config
    if anatomy is None:
        anatomy = load_anatomy(anat_cfg.voxel_size_mm, anat_cfg.grey_matter_threshold)
    brain = anatomy.brain_mask
    field = (
        shape_field(anatomy.shape, anatomy.voxel_size_mm, regions.irregularity_fwhm_mm,
                    regions.shape_seed)
        if regions.irregularity else None
    )
    region_masks, profiles = region_profiles(
        regions.centres, regions.radius_mm, regions.irregularity, field, anatomy.affine,
        anatomy.grey_mask,
    )
    profiles_in_brain = {name: profile[brain] for name, profile in profiles.items()}
    visual = regions.visual
    visual_masks = sphere_masks(
        visual, regions.visual_radius_mm, anatomy.affine, anatomy.grey_mask
    )
    visual_mask = np.zeros(brain.shape, bool)
    visual_profile = None
    if visual_masks:
        profile = np.zeros(brain.shape)
        for name, mask in visual_masks.items():
            visual_mask |= mask
            if mask.any():
                profile += roi_profile(
                    mask, visual[name], regions.visual_radius_mm / 2, anatomy.affine
                )
        visual_profile = profile[brain]

    baseline_volume = (
        signal.baseline_grey * anatomy.grey_prob
        + signal.baseline_white * anatomy.white_prob
        + signal.baseline_csf * anatomy.csf_prob
    ) * brain
    baseline = baseline_volume[brain]
    grey_baseline = float(np.median(baseline_volume[anatomy.grey_mask]))
    voxel = anatomy.voxel_size_mm
    smoothed = ndimage.gaussian_filter(baseline_volume, 1.0)
    gradient = np.stack([g[brain] for g in np.gradient(smoothed, voxel)], axis=1)
    ijk = np.argwhere(brain)
    coords = ijk @ anatomy.affine[:3, :3].T + anatomy.affine[:3, 3]
    return SimulationSpace(
        anatomy=anatomy,
        region_masks=region_masks,
        visual_mask=visual_mask,
        baseline=baseline.astype(np.float32),
        region_profiles=profiles_in_brain,
        visual_profile=visual_profile,
        gradient=gradient,
        centred_coordinates_mm=coords - coords.mean(axis=0),
        grey_baseline=grey_baseline,
    )


def simulate_subject(
    simulation: SimulationConfig,
    subject_index: int,
    truth: SubjectTruth,
    space: SimulationSpace,
) -> list[SimulatedRun]:
    """Simulate all runs of one subject.

    Parameters
    ----------
    simulation : SimulationConfig
        Seed, design, signal and noise of the simulation.
    subject_index : int
        Zero-based subject index (selects the random streams).
    truth : SubjectTruth
        The subject's amplitudes and HRF, from
        :func:`empathy_fmri.simulation.population.draw_subject`.
    space : SimulationSpace
        From :func:`build_space`.

    Returns
    -------
    list of SimulatedRun
        One per run, in run order.
    """
    design = BlockDesign.from_config(simulation.design)
    noise_cfg = simulation.noise
    signal_cfg = simulation.signal
    seed = simulation.seed
    streams = {
        name: subject_rng(seed, subject_index, name)
        for name in ("design", "noise", "physio", "drift", "motion")
    }
    hrf = hrf_kernel(truth.hrf_delay_s, truth.hrf_undershoot_s)
    task_psc = activation_psc(
        space.region_profiles,
        truth.needle_minus_swab_psc,
        signal_cfg.swab_psc,
        space.visual_profile,
        signal_cfg.visual_psc,
    )
    noise_sd = space.grey_baseline / noise_cfg.tsnr
    physio_sd = noise_cfg.physio_psc / 100.0 * space.grey_baseline
    gaussian_sd = float(np.sqrt(max(noise_sd**2 - physio_sd**2, 0.0)))
    sigma_voxels = smoothing_sigma_voxels(
        noise_cfg.fwhm_mm, space.anatomy.voxel_size_mm, noise_cfg.thermal_share
    )
    csf = space.anatomy.csf_prob[space.mask]
    grey = space.anatomy.grey_mask[space.mask]
    physio_gain = (1.0 + csf) / np.sqrt(np.mean((1.0 + csf[grey]) ** 2)) * physio_sd
    frame_times = design.frame_times_s
    runs = []
    for run_index in range(design.n_runs):
        conditions = block_order(design, subject_index, run_index, streams["design"])
        events = run_events(design, conditions)
        regressors = condition_regressors(events, frame_times, hrf)
        bold = np.outer(regressors["needle"] / 100, task_psc["needle"]).astype(np.float32)
        bold += np.outer(regressors["swab"] / 100, task_psc["swab"]).astype(np.float32)
        bold += 1.0
        bold *= space.baseline
        parameters: dict[str, Any] = {"gaussian_noise_sd": gaussian_sd}
        if gaussian_sd > 0:
            noise = gaussian_noise(
                streams["noise"], space.mask, design.n_scans, sigma_voxels,
                noise_cfg.thermal_share, noise_cfg.ar1_rho,
            )
            noise *= gaussian_sd
            bold += noise
            if noise_cfg.rician:
                thermal_sd = gaussian_sd * np.sqrt(noise_cfg.thermal_share)
                quadrature = streams["noise"].standard_normal(bold.shape, dtype=np.float32)
                bold = np.sqrt(bold**2 + (thermal_sd * quadrature) ** 2)
        if physio_sd > 0:
            physio, rates = physiological_noise(streams["physio"], frame_times, physio_gain)
            bold += physio
            parameters.update(rates)
        if noise_cfg.drift_psc > 0:
            gain = noise_cfg.drift_psc / 100.0 * space.baseline
            bold += drift(streams["drift"], frame_times, gain)
        motion = motion_parameters(streams["motion"], design.n_scans, noise_cfg.motion_mm)
        if noise_cfg.motion_mm > 0:
            bold += motion_effect(motion, space.gradient, space.centred_coordinates_mm)
        estimated = realignment_estimate(streams["motion"], motion, noise_cfg.motion_mm)
        confounds = confounds_table(estimated)
        parameters["mean_framewise_displacement_mm"] = float(
            confounds["framewise_displacement"].mean()
        )
        logger.info(
            "%s run %d: %d scans x %d voxels, mean FD %.3f mm",
            truth.participant_id, run_index + 1, design.n_scans, bold.shape[1],
            parameters["mean_framewise_displacement_mm"],
        )
        runs.append(SimulatedRun(bold, events, confounds, parameters))
    return runs
