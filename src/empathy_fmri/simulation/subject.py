"""Simulate one subject's BOLD runs: signal plus every noise component.

``bold = baseline * (1 + task_psc / 100) + thermal/system + physio + drift + motion``,
computed on the voxels of the brain mask as ``(n_scans, n_voxels)`` arrays. The
thermal and system noise are solved per run so that the mixture has the
configured tSNR, lag-one autocorrelation and smoothness
(:mod:`~empathy_fmri.simulation.noise_mixture`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import Anatomy, load_anatomy
from empathy_fmri.anatomy.tissue_masks import confound_masks
from empathy_fmri.config.sections import (
    AnatomyConfig,
    RegionsConfig,
    SignalConfig,
    SimulationConfig,
)
from empathy_fmri.simulation.activation import activation_psc, roi_profile
from empathy_fmri.simulation.design import BlockDesign, subject_events
from empathy_fmri.simulation.drift import GLOBAL_SHARE, power_law_series
from empathy_fmri.simulation.motion import (
    confounds_table,
    displaced_intensity,
    flinch_parameters,
    image_derivatives,
    motion_parameters,
    realignment_estimate,
    slice_acquisition_times,
    slice_motion,
    spin_history,
    volume_motion,
)
from empathy_fmri.simulation.noise import smooth_fields, system_noise, temporal_factor
from empathy_fmri.simulation.noise_mixture import (
    REFERENCE_HIGH_PASS_HZ,
    NoiseGeometry,
    nuisance_basis,
    solve_mixture,
)
from empathy_fmri.simulation.physiology import (
    physiological_waveforms,
    slow_physiology,
    tissue_gain,
)
from empathy_fmri.simulation.population import SubjectTruth, run_amplitudes
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
    motion_gradient, motion_hessian : numpy.ndarray
        Gradient ``(n_voxels, 3)`` and Hessian ``(n_voxels, 3, 3)`` (per mm)
        of the baseline image blurred by the EPI point-spread (Gaussian, one
        voxel SD), which head motion moves.
    centred_coordinates_mm : numpy.ndarray
        ``(n_voxels, 3)`` voxel positions relative to the brain's centre.
    voxel_slices : numpy.ndarray
        ``(n_voxels,)`` the axial slice (z index of the grid) of each voxel.
    slice_weights : numpy.ndarray
        ``(n_slices,)`` brain voxels per slice.
    grey_baseline : float
        Median baseline of grey-matter voxels; the noise SD is this over the tSNR.
    physio_gain : numpy.ndarray
        Relative physiological noise amplitude per voxel (RMS one in grey matter).
    noise_geometry : NoiseGeometry
        Per-voxel amplitudes and neighbours that the noise solution needs.
    tissue_masks : dict of str to numpy.ndarray
        Boolean 3D masks of fMRIPrep's mean-signal confounds (``global_signal``,
        ``csf``, ``white_matter``, ``csf_wm``;
        :func:`~empathy_fmri.anatomy.tissue_masks.confound_masks`).
    """

    anatomy: Anatomy
    region_masks: dict[str, np.ndarray]
    visual_mask: np.ndarray
    baseline: np.ndarray
    region_profiles: dict[str, np.ndarray]
    visual_profile: np.ndarray | None
    motion_gradient: np.ndarray
    motion_hessian: np.ndarray
    centred_coordinates_mm: np.ndarray
    voxel_slices: np.ndarray
    slice_weights: np.ndarray
    grey_baseline: float
    physio_gain: np.ndarray
    noise_geometry: NoiseGeometry
    tissue_masks: dict[str, np.ndarray]

    @property
    def grey_voxels(self) -> np.ndarray:
        """Boolean vector: which brain voxels are grey matter."""
        return self.anatomy.grey_mask[self.mask]

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
        fMRIPrep-style motion confounds (the tissue signals, which are means
        of the written image, are added by
        :func:`empathy_fmri.pipeline.simulated_subject.simulate_subject_data`).
    parameters : dict
        Noise parameters drawn for this run (physiological rates, ...).
    components : dict of str to numpy.ndarray
        Each noise component (``thermal``, ``system``, ``physiological``,
        ``slow_physiological``, ``drift``, ``motion``),
        ``(n_scans, n_voxels)``, when asked for; empty otherwise.
    """

    bold: np.ndarray
    events: pd.DataFrame
    confounds: pd.DataFrame
    parameters: dict[str, Any]
    components: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


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
        shape_field(
            anatomy.shape, anatomy.voxel_size_mm, regions.irregularity_fwhm_mm, regions.shape_seed
        )
        if regions.irregularity
        else None
    )
    region_masks, profiles = region_profiles(
        regions.centres,
        regions.radius_mm,
        regions.irregularity,
        field,
        anatomy.affine,
        anatomy.grey_mask,
    )
    profiles_in_brain = {name: profile[brain] for name, profile in profiles.items()}
    visual = regions.visual
    visual_masks = sphere_masks(visual, regions.visual_radius_mm, anatomy.affine, anatomy.grey_mask)
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
    smoothed = ndimage.gaussian_filter(baseline_volume, 1.0)
    ijk = np.argwhere(brain)
    gradient, hessian = image_derivatives(smoothed, ijk, anatomy.voxel_size_mm)
    grey = anatomy.grey_mask[brain]
    physio_gain = tissue_gain(
        anatomy.grey_prob[brain], anatomy.white_prob[brain], anatomy.csf_prob[brain], grey
    )
    coords = ijk @ anatomy.affine[:3, :3].T + anatomy.affine[:3, 3]
    return SimulationSpace(
        anatomy=anatomy,
        region_masks=region_masks,
        visual_mask=visual_mask,
        baseline=baseline.astype(np.float32),
        region_profiles=profiles_in_brain,
        visual_profile=visual_profile,
        motion_gradient=gradient,
        motion_hessian=hessian,
        centred_coordinates_mm=coords - coords.mean(axis=0),
        voxel_slices=ijk[:, 2],
        slice_weights=np.bincount(ijk[:, 2], minlength=brain.shape[2]).astype(float),
        grey_baseline=grey_baseline,
        physio_gain=physio_gain.astype(np.float32),
        noise_geometry=NoiseGeometry.from_mask(
            brain, baseline, physio_gain, grey, anatomy.voxel_size_mm
        ),
        tissue_masks=confound_masks(anatomy),
    )


def simulate_subject(
    simulation: SimulationConfig,
    subject_index: int,
    truth: SubjectTruth,
    space: SimulationSpace,
    keep_components: bool = False,
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
    keep_components : bool
        Keep each noise component in :attr:`SimulatedRun.components` (for the
        validation of what the analysis removes).

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
        for name in ("noise", "physio", "drift", "motion", "run_amplitude", "flinch")
    }
    hrf = hrf_kernel(truth.hrf_delay_s, truth.hrf_undershoot_s)
    physio_on = noise_cfg.physio_share > 0
    slow_physio_on = noise_cfg.slow_physio_share > 0
    frame_times = design.frame_times_s
    runs = []
    for run_index, events in enumerate(subject_events(design, seed, subject_index)):
        amplitudes = run_amplitudes(
            streams["run_amplitude"], truth.needle_minus_swab_psc, signal_cfg.run_sd_psc
        )
        task_psc = activation_psc(
            space.region_profiles,
            amplitudes,
            signal_cfg.swab_psc,
            space.visual_profile,
            signal_cfg.visual_psc,
        )
        regressors = condition_regressors(events, frame_times, hrf)
        bold = np.outer(
            (regressors["needle"] / 100).astype(np.float32), task_psc["needle"].astype(np.float32)
        )
        bold += np.outer(
            (regressors["swab"] / 100).astype(np.float32), task_psc["swab"].astype(np.float32)
        )
        bold += np.float32(1.0)
        bold *= space.baseline
        waveforms = (
            physiological_waveforms(streams["physio"], frame_times)
            if physio_on or slow_physio_on
            else None
        )
        drift_series = (
            power_law_series(streams["drift"], design.n_scans, noise_cfg.drift_exponent, 2)
            if noise_cfg.drift_share > 0
            else None
        )
        # the head where each slice saw it; realignment sees one position per volume
        walk = motion_parameters(streams["motion"], design.n_scans, noise_cfg.motion_mm)
        slice_times = slice_acquisition_times(
            space.slice_weights.size, design.tr_s, noise_cfg.slice_order
        )
        flinch = None
        if noise_cfg.flinch_mm > 0:
            needle_onsets = events.loc[events["trial_type"] == "needle", "onset"].to_numpy()
            flinch = flinch_parameters(
                streams["flinch"],
                needle_onsets,
                frame_times[:, None] + slice_times[None, :],
                noise_cfg.flinch_mm,
                noise_cfg.flinch_probability,
            )
        motion = slice_motion(walk, frame_times, slice_times, flinch)
        estimated = realignment_estimate(
            streams["motion"],
            volume_motion(motion, space.slice_weights),
            noise_cfg.realignment_error_mm,
        )
        # the config's statistics hold after the high-pass and the six realignment
        # regressors, the nuisance model every first level has
        mixture = solve_mixture(
            tsnr=noise_cfg.tsnr,
            ar1_rho=noise_cfg.ar1_rho,
            fwhm_mm=noise_cfg.fwhm_mm,
            thermal_share=noise_cfg.thermal_share,
            physio_share=noise_cfg.physio_share,
            slow_physio_share=noise_cfg.slow_physio_share,
            drift_share=noise_cfg.drift_share,
            geometry=space.noise_geometry,
            basis=nuisance_basis(design.n_scans, design.tr_s, estimated),
            tr_s=design.tr_s,
            drift_exponent=noise_cfg.drift_exponent,
            strict=False,
        )
        parameters: dict[str, Any] = {
            "run_needle_minus_swab_psc": amplitudes,
            "gaussian_noise_sd": mixture.gaussian_sd,
            "system_spectral_exponent": mixture.system_exponent,
            "expected_lag_one": mixture.lag_one,
            "thermal_weight_before_high_pass": mixture.thermal_weight,
            "physiological_sd": mixture.physio_sd,
            "slow_physiological_sd": mixture.slow_physio_sd,
            "drift_fraction": mixture.drift_fraction,
            "smoothing_sigma_voxels": mixture.sigma_voxels,
            "grey_matter_variance_after_high_pass": mixture.variances,
        }
        components: dict[str, np.ndarray] = {}
        factor = (
            temporal_factor(
                design.n_scans, design.tr_s, mixture.system_exponent, REFERENCE_HIGH_PASS_HZ
            )
            if mixture.system_exponent > 0
            else None
        )
        system = system_noise(
            streams["noise"], space.mask, design.n_scans, mixture.sigma_voxels, factor
        )
        system *= np.float32(mixture.gaussian_sd * np.sqrt(1.0 - mixture.thermal_weight))
        components["system"] = system
        thermal = system_noise(
            streams["noise"], space.mask, design.n_scans, mixture.sigma_voxels, None
        )
        thermal *= np.float32(mixture.gaussian_sd * np.sqrt(mixture.thermal_weight))
        components["thermal"] = thermal
        if waveforms is not None:
            if physio_on:
                fields = smooth_fields(
                    streams["physio"],
                    space.mask,
                    waveforms.regressors.shape[1],
                    mixture.sigma_voxels,
                )
                fields *= mixture.physio_sd * space.physio_gain
                components["physiological"] = waveforms.regressors.astype(np.float32) @ fields
            if slow_physio_on:
                components["slow_physiological"] = slow_physiology(
                    streams["physio"],
                    space.mask,
                    space.physio_gain,
                    waveforms.slow_regressors,
                    mixture.slow_physio_sd,
                    mixture.sigma_voxels,
                )
            parameters.update(
                cardiac_hz=waveforms.cardiac_hz, respiratory_hz=waveforms.respiratory_hz
            )
        if drift_series is not None:
            field = smooth_fields(streams["drift"], space.mask, 1, mixture.sigma_voxels)[0]
            global_part = np.sqrt(GLOBAL_SHARE) * drift_series[:, :1].astype(np.float32)
            local_part = np.sqrt(1.0 - GLOBAL_SHARE) * drift_series[:, 1:].astype(np.float32)
            drift_gain = (mixture.drift_fraction * space.baseline).astype(np.float32)
            components["drift"] = (global_part + local_part * field) * drift_gain
        if np.any(motion):
            moved = displaced_intensity(
                motion,
                space.motion_gradient,
                space.motion_hessian,
                space.centred_coordinates_mm,
                space.voxel_slices,
            )
            if noise_cfg.spin_history_psc_per_mm > 0:
                moved += spin_history(
                    motion,
                    space.centred_coordinates_mm,
                    space.baseline,
                    design.tr_s,
                    noise_cfg.spin_history_psc_per_mm,
                    space.voxel_slices,
                )
            components["motion"] = moved
        for component in components.values():
            bold += component
        if noise_cfg.rician:
            thermal_sd = mixture.gaussian_sd * np.sqrt(mixture.thermal_weight)
            quadrature = streams["noise"].standard_normal(bold.shape, dtype=np.float32)
            quadrature *= np.float32(thermal_sd)
            np.square(quadrature, out=quadrature)
            np.square(bold, out=bold)
            bold += quadrature
            np.sqrt(bold, out=bold)
        if not keep_components:
            components = {}
        confounds = confounds_table(estimated)
        parameters["mean_framewise_displacement_mm"] = float(
            confounds["framewise_displacement"].mean()
        )
        logger.info(
            "%s run %d: %d scans x %d voxels, mean FD %.3f mm",
            truth.participant_id,
            run_index + 1,
            design.n_scans,
            bold.shape[1],
            parameters["mean_framewise_displacement_mm"],
        )
        runs.append(SimulatedRun(bold, events, confounds, parameters, components))
    return runs
