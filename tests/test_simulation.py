"""Calibration of the simulator, measured on its output with estimators written here.

Each test simulates one subject's runs and estimates a property from the data
(never from the simulator's own bookkeeping), with a tolerance that follows
from the estimator's statistics.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pytest

from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import load_anatomy
from empathy_fmri.config import SimulationConfig
from empathy_fmri.jobs.simulate import write_subject
from empathy_fmri.simulation.activation import activation_psc
from empathy_fmri.simulation.design import BlockDesign
from empathy_fmri.simulation.population import draw_subject
from empathy_fmri.simulation.subject import build_space, simulate_subject
from empathy_fmri.task.hrf import condition_regressors


def _config(base: dict, **changes) -> dict:
    """Copy of a config with dotted-key changes."""
    config = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value
    return config


def _simulation(config: dict) -> SimulationConfig:
    """The typed simulation sections of a (changed) config dict."""
    return SimulationConfig.from_dict(config)


def _quiet(config: dict) -> dict:
    """No task signal: the data are baseline plus noise."""
    config = copy.deepcopy(config)
    for model in config["signal"]["rois"].values():
        model.update(mean_psc=0.0, sd_psc=0.0)
    config["signal"].update(visual_psc=0.0, swab_psc=0.0)
    return config


@pytest.fixture(scope="module")
def base(default_config) -> dict:
    config = copy.deepcopy(default_config)
    config["n_subjects"] = 4
    return config


@pytest.fixture(scope="module")
def space3(base):
    simulation = _simulation(base)
    return build_space(simulation.anatomy, simulation.regions, simulation.signal)


def _grey_noise(config: dict, space) -> np.ndarray:
    """Concatenated runs of subject 0, grey-matter voxels only: (n_scans, n_voxels)."""
    simulation = _simulation(config)
    truth = draw_subject(simulation, 0, config["n_subjects"])
    runs = simulate_subject(simulation, 0, truth, space)
    grey = space.anatomy.grey_mask[space.mask]
    return [run.bold[:, grey].astype(np.float64) for run in runs]


def test_grey_matter_tsnr_matches_config(base, space3):
    # drift and motion are not part of tSNR (it is quoted after detrending and
    # motion correction); physiological noise is.
    config = _config(_quiet(base), noise__drift_psc=0.0, noise__motion_mm=0.0)
    tsnr_per_run = []
    for bold in _grey_noise(config, space3):
        t = np.arange(bold.shape[0])
        trend = np.polynomial.polynomial.polyfit(t, bold, 1)
        residual = bold - np.polynomial.polynomial.polyval(t, trend).T
        tsnr_per_run.append(bold.mean(axis=0) / residual.std(axis=0, ddof=2))
    median_tsnr = np.median(np.concatenate(tsnr_per_run))
    assert median_tsnr == pytest.approx(config["noise"]["tsnr"], rel=0.15)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6])
def test_lag_one_autocorrelation_matches_config(base, space3, rho):
    config = _config(
        _quiet(base), noise__drift_psc=0.0, noise__motion_mm=0.0, noise__physio_psc=0.0,
        noise__ar1_rho=rho,
    )
    estimates = []
    for bold in _grey_noise(config, space3):
        centred = bold - bold.mean(axis=0)
        estimates.append(
            np.sum(centred[1:] * centred[:-1], axis=0) / np.sum(centred**2, axis=0)
        )
    estimate = float(np.mean(np.concatenate(estimates)))
    # The sample lag-1 autocorrelation of a series of length T is biased by
    # about -(1 + 4 rho) / T (Marriott & Pope 1954); averaging over ~50,000
    # voxels removes the sampling noise, so we correct the bias and ask for
    # the 0.05.
    n_scans = BlockDesign.from_config(_simulation(config).design).n_scans
    assert estimate + (1 + 4 * rho) / n_scans == pytest.approx(rho, abs=0.05)


def _forman_fwhm_mm(residuals: np.ndarray, mask: np.ndarray, voxel_mm: float) -> float:
    """FWHM from the variance of spatial first differences (Forman et al. 1995).

    residuals: (n_scans, *grid) with zeros outside mask. Per axis,
    FWHM = sqrt(-2 ln 2 / ln(1 - var(dx) / (2 var(e)))) voxels; we return the
    geometric mean over the three axes.
    """
    standardised = residuals / residuals.std(axis=0, keepdims=True).clip(1e-12)
    fwhm = []
    for axis in (1, 2, 3):
        a = np.take(standardised, range(standardised.shape[axis] - 1), axis=axis)
        b = np.take(standardised, range(1, standardised.shape[axis]), axis=axis)
        both = np.take(mask, range(mask.shape[axis - 1] - 1), axis=axis - 1) & np.take(
            mask, range(1, mask.shape[axis - 1]), axis=axis - 1
        )
        difference_variance = np.mean((a - b)[:, both] ** 2)
        correlation = 1 - difference_variance / 2
        fwhm.append(np.sqrt(-2 * np.log(2) / np.log(correlation)))
    return float(np.prod(fwhm) ** (1 / 3) * voxel_mm)


@pytest.mark.parametrize(("fwhm_mm", "thermal_share"), [(6.0, 0.1), (6.0, 0.0), (8.0, 0.05)])
def test_noise_smoothness_matches_config(base, space3, fwhm_mm, thermal_share):
    # thermal (white) plus system (smooth) noise, as the config mixes them
    config = _config(
        _quiet(base), noise__drift_psc=0.0, noise__motion_mm=0.0, noise__physio_psc=0.0,
        noise__thermal_share=thermal_share, noise__fwhm_mm=fwhm_mm, design__n_runs=1,
    )
    simulation = _simulation(config)
    truth = draw_subject(simulation, 0, config["n_subjects"])
    bold = simulate_subject(simulation, 0, truth, space3)[0].bold
    residual = bold - bold.mean(axis=0)
    grid = np.zeros((bold.shape[0], *space3.mask.shape), np.float64)
    grid[:, space3.mask] = residual
    # Use only the interior of the brain: the brain edge has no neighbour.
    estimate = _forman_fwhm_mm(grid, space3.mask, space3.anatomy.voxel_size_mm)
    assert estimate == pytest.approx(fwhm_mm, rel=0.20)


@pytest.fixture(scope="module")
def high_tsnr_fit(base, space3):
    """Least-squares needle/swab betas per voxel at tSNR 1000, white noise, true HRF."""
    config = _config(
        base, noise__tsnr=1000.0, noise__drift_psc=0.0, noise__motion_mm=0.0,
        noise__physio_psc=0.0, noise__fwhm_mm=0.0, noise__ar1_rho=0.0,
        noise__thermal_share=1.0, signal__hrf_delay_sd_s=0.0, signal__hrf_undershoot_sd_s=0.0,
    )
    for model in config["signal"]["rois"].values():
        model.update(mean_psc=1.0, sd_psc=0.2)
    simulation = _simulation(config)
    truth = draw_subject(simulation, 0, config["n_subjects"])
    runs = simulate_subject(simulation, 0, truth, space3)
    design = BlockDesign.from_config(simulation.design)
    betas, t_values = [], []
    for run in runs:
        regressors = condition_regressors(run.events, design.frame_times_s, "glover")
        x = np.column_stack(
            [regressors["needle"], regressors["swab"], np.ones(design.n_scans)]
        )
        y = run.bold.astype(np.float64)
        beta, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
        sigma2 = rss / (design.n_scans - x.shape[1])
        contrast = np.array([1.0, -1.0, 0.0])
        variance = contrast @ np.linalg.inv(x.T @ x) @ contrast * sigma2
        difference = contrast @ beta
        betas.append(100 * difference / beta[2])
        t_values.append(difference / np.sqrt(variance))
    return truth, np.mean(betas, axis=0), t_values


def test_planted_amplitude_recovered_in_every_roi(high_tsnr_fit, space3):
    truth, needle_minus_swab_psc, _ = high_tsnr_fit
    for name, mask in space3.region_masks.items():
        estimate = needle_minus_swab_psc[mask[space3.mask]].mean()
        planted = truth.needle_minus_swab_psc[name]
        assert estimate == pytest.approx(planted, rel=0.05), name


def test_no_needle_swab_difference_outside_rois(high_tsnr_fit, space3):
    _, _, t_values = high_tsnr_fit
    inside = np.zeros(space3.mask.shape, bool) | space3.visual_mask
    for mask in space3.region_masks.values():
        inside |= mask
    outside = ~inside[space3.mask]
    for t in t_values:
        # White noise, OLS: |t| > 3.29 has probability 0.001 per voxel. With n
        # independent voxels the count is Binomial(n, 0.001); allow the mean
        # plus 4 of its SDs.
        n = int(outside.sum())
        expected = 0.001 * n
        assert np.sum(np.abs(t[outside]) > 3.29) <= expected + 4 * np.sqrt(expected)


def test_planted_maps_differ_only_in_rois(space3):
    amplitudes = dict.fromkeys(space3.region_profiles, 0.7)
    maps = activation_psc(space3.region_profiles, amplitudes, 0.2, space3.visual_profile, 1.5)
    difference = maps["needle"] - maps["swab"]
    inside = np.zeros(space3.mask.shape, bool)
    for mask in space3.region_masks.values():
        inside |= mask
        assert difference[mask[space3.mask]].mean() == pytest.approx(0.7)
    assert np.all(difference[~inside[space3.mask]] == 0)


@pytest.mark.parametrize("voxel_mm", [2, 3])
@pytest.mark.parametrize(("section", "centres_key", "radius_key"),
                         [("analysis", "rois", "roi_radius_mm"),
                          ("regions", "centres", "radius_mm")])
def test_default_rois_and_regions_lie_in_grey_matter(
    default_config, voxel_mm, section, centres_key, radius_key
):
    anatomy = load_anatomy(voxel_mm, default_config["anatomy"]["grey_matter_threshold"])
    centres = default_config[section][centres_key]
    masks = sphere_masks(centres, default_config[section][radius_key], anatomy.affine,
                         anatomy.grey_mask)
    inverse = np.linalg.inv(anatomy.affine)
    for name, centre in centres.items():
        assert masks[name].sum() >= 10, name
        ijk = np.round(inverse @ [*centre, 1])[:3].astype(int)
        assert anatomy.brain_mask[tuple(ijk)], f"{name} centre outside the brain mask"


def _digest(folder) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_same_config_gives_identical_files(base, space3, tmp_path):
    config = _config(base, design__n_runs=1)
    for copy_name in ("a", "b"):
        write_subject(_simulation(config), config["n_subjects"], 1, tmp_path / copy_name / "bids",
                      tmp_path / copy_name / "truth", space3)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_adding_subjects_leaves_others_unchanged(base, space3, tmp_path):
    small = _config(base, design__n_runs=1, n_subjects=3)
    large = _config(base, design__n_runs=1, n_subjects=8)
    for name, config in (("small", small), ("large", large)):
        write_subject(_simulation(config), config["n_subjects"], 2, tmp_path / name / "bids",
                      tmp_path / name / "truth", space3)
    small_files = _digest(tmp_path / "small" / "bids")
    assert small_files == _digest(tmp_path / "large" / "bids")
    assert draw_subject(_simulation(small), 2, small["n_subjects"]) == draw_subject(
        _simulation(large), 2, large["n_subjects"]
    )


def test_motion_effect_is_explained_by_confounds(base, space3):
    config = _config(_quiet(base), noise__motion_mm=0.1, design__n_runs=1,
                     noise__tsnr=10000.0, noise__drift_psc=0.0, noise__physio_psc=0.0)
    simulation = _simulation(config)
    truth = draw_subject(simulation, 0, config["n_subjects"])
    run = simulate_subject(simulation, 0, truth, space3)[0]
    y = run.bold.astype(np.float64)
    y -= y.mean(axis=0)
    motion = run.confounds[["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]]
    x = np.column_stack([motion.to_numpy(), np.ones(len(motion))])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    explained = 1 - np.sum((y - x @ beta) ** 2) / np.sum(y**2)
    # Motion moves the image and the noise is 1e-4 of the baseline, so the
    # six regressors must explain nearly all the variance.
    assert explained > 0.95
