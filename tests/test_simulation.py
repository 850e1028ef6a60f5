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
from nilearn.glm.first_level import make_first_level_design_matrix
from noise_statistics import MOTION, forman_fwhm_mm, nuisance_design, residuals, within
from scipy import stats

from empathy_fmri.analysis.first_level import confound_regressors
from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import load_anatomy
from empathy_fmri.config import SimulationConfig
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.evaluation.noise_removal import (
    component_removal,
    first_level_design,
    task_effect,
)
from empathy_fmri.jobs.simulate import write_subject
from empathy_fmri.simulation.activation import activation_psc
from empathy_fmri.simulation.design import BlockDesign
from empathy_fmri.simulation.drift import cosine_basis, expected_share_above, power_law_series
from empathy_fmri.simulation.physiology import SLOW_GLOBAL_SHARE
from empathy_fmri.simulation.population import draw_subject, run_amplitudes
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
    config["signal"].update(visual_psc=0.0, swab_psc=0.0, run_sd_psc=0.0)
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


_forman_fwhm_mm = forman_fwhm_mm


N_CALIBRATION_SUBJECTS = 4


@pytest.fixture(scope="module")
def calibration(base, space3):
    """Per-run noise statistics of quiet data at the default noise, every component on.

    Four subjects x two runs: the task signal is off (the data are baseline
    plus noise) and every noise component is at its default: thermal,
    system, physiological (cardiac and respiratory waves, slow fluctuations),
    drift, motion with spin history and realignment error. The drift's
    statistics are read from the drift component itself (the grey-matter
    mean of the data also holds the global slow physiology).
    """
    simulation = _simulation(_quiet(base))
    design = BlockDesign.from_config(simulation.design)
    grey = space3.grey_voxels
    stats = {
        "tsnr": [],
        "lag_one": [],
        "fwhm_mm": [],
        "drift_share_above": [],
        "gm_mean_spectrum": [],
        "thermal_share": [],
        "physio_share": [],
        "slow_physio_share": [],
        "drift_share": [],
    }
    components = None
    basis = cosine_basis(design.n_scans)
    n_removed = int(np.floor(2 * design.n_scans * design.tr_s / 128))
    for index in range(N_CALIBRATION_SUBJECTS):
        truth = draw_subject(simulation, index, base["n_subjects"])
        runs = simulate_subject(simulation, index, truth, space3, keep_components=True)
        for run in runs:
            # the config quotes the statistics with head motion aside (what the
            # realignment regressors leave of it is outside the noise budget)
            data = run.bold.astype(np.float64) - run.components["motion"]
            residual = residuals(data, nuisance_design(run, design.frame_times_s))
            mean = data.mean(axis=0)
            sd = np.sqrt(np.mean(residual**2, axis=0))
            stats["tsnr"].append(float(np.median(mean[grey] / sd[grey])))
            r = residual[:, grey]
            stats["lag_one"].append(
                float(np.mean(np.sum(r[1:] * r[:-1], axis=0) / np.sum(r**2, axis=0)))
            )
            stats["fwhm_mm"].append(
                _forman_fwhm_mm(residual, space3.mask, space3.anatomy.voxel_size_mm)
            )
            # each component's share of the typical grey-matter voxel's noise
            # variance, (median mean / tSNR)^2, after the same nuisance model
            typical = (float(np.median(mean[grey])) / stats["tsnr"][-1]) ** 2
            nuisance = nuisance_design(run, design.frame_times_s)
            for key, name in (
                ("thermal_share", "thermal"),
                ("physio_share", "physiological"),
                ("slow_physio_share", "slow_physiological"),
                ("drift_share", "drift"),
            ):
                part = residuals(run.components[name][:, grey], nuisance)
                stats[key].append(float(np.mean(part**2)) / typical)
            # grey-matter mean of the drift: the global drift and a little of
            # the local one; its cosine coefficients are its spectrum
            series = run.components["drift"][:, grey].astype(np.float64).mean(axis=1)
            power = (basis.T @ (series - series.mean())) ** 2
            stats["drift_share_above"].append(float(power[n_removed:].sum() / power.sum()))
            stats["gm_mean_spectrum"].append(power)
        if index == 0:
            components = runs
        else:
            for run in runs:
                run.components.clear()
    return {key: np.asarray(value) for key, value in stats.items()}, components


_within = within


def test_grey_matter_tsnr_matches_config(calibration, base):
    stats, _ = calibration
    ok, message = _within(stats["tsnr"], base["noise"]["tsnr"])
    assert ok, message
    # the SE must be small enough for the test to mean something: 2% of the target
    se = np.std(stats["tsnr"], ddof=1) / np.sqrt(stats["tsnr"].size)
    assert se < 0.02 * base["noise"]["tsnr"]


def test_lag_one_autocorrelation_matches_config(calibration, base):
    stats, _ = calibration
    ok, message = _within(stats["lag_one"], base["noise"]["ar1_rho"])
    assert ok, message
    assert np.std(stats["lag_one"], ddof=1) / np.sqrt(stats["lag_one"].size) < 0.03


@pytest.mark.parametrize(
    "key", ["thermal_share", "physio_share", "slow_physio_share", "drift_share"]
)
def test_component_shares_match_config(calibration, base, key):
    """Each component's share of the noise variance, read from the component after
    the nuisance model, is the configured one (4 SE over the 8 runs)."""
    stats, _ = calibration
    ok, message = _within(stats[key], base["noise"][key])
    assert ok, message
    # precise enough to mean something: a tenth of the configured share
    assert np.std(stats[key], ddof=1) / np.sqrt(stats[key].size) < 0.1 * base["noise"][key]


def test_noise_smoothness_matches_config(calibration, base):
    stats, _ = calibration
    ok, message = _within(stats["fwhm_mm"], base["noise"]["fwhm_mm"])
    assert ok, message
    assert np.std(stats["fwhm_mm"], ddof=1) / np.sqrt(stats["fwhm_mm"].size) < 0.1


def test_drift_reaches_into_the_analysis_band(calibration, base, space3):
    stats, _ = calibration
    noise = base["noise"]
    design = BlockDesign.from_config(_simulation(base).design)
    expected = expected_share_above(design.n_scans, design.tr_s, noise["drift_exponent"], 1 / 128)
    # The share of one run's drift variance above the cut-off varies with its
    # random spectral coefficients; its SD comes from the generator's own
    # distribution (the null the test compares with), not from this data.
    rng = np.random.default_rng(0)
    n_removed = int(np.floor(2 * design.n_scans * design.tr_s / 128))
    draws = cosine_basis(design.n_scans).T @ power_law_series(
        rng, design.n_scans, noise["drift_exponent"], 4000
    )
    shares = np.sum(draws[n_removed:] ** 2, axis=0) / np.sum(draws**2, axis=0)
    se = shares.std() / np.sqrt(stats["drift_share_above"].size)
    measured = float(np.mean(stats["drift_share_above"]))
    assert expected - 4 * se <= measured <= expected + 4 * se, (measured, expected, se)
    assert expected > 0.5  # a drift confined below the high-pass would give about 0
    # spectrum: log power of the averaged coefficients against log frequency,
    # over the lowest 20, has slope -drift_exponent
    power = stats["gm_mean_spectrum"].mean(axis=0)[:20]
    k = np.arange(1, 21)
    slope, _intercept = np.polyfit(np.log(k), np.log(power), 1)
    # each averaged coefficient is a chi-square with 8 degrees of freedom over
    # 8, whose log has SD about sqrt(2 / 8) = 0.5; the slope's SE is that over
    # sqrt(sum (log k - mean)^2) = 0.5 / 3.9 = 0.13
    assert slope == pytest.approx(-noise["drift_exponent"], abs=4 * 0.13)


def test_physiological_noise_is_spatially_coherent(calibration, space3, base):
    run = calibration[1][0]
    physio = run.components["physiological"].astype(np.float64)
    fwhm = _forman_fwhm_mm(physio - physio.mean(axis=0), space3.mask, space3.anatomy.voxel_size_mm)
    # it has the smoothing kernel of the system noise (sigma ~0.8 voxels,
    # FWHM ~6 mm); white noise would read as below one voxel (3 mm)
    assert fwhm > 4.0, fwhm
    # and it is aliased: sampled every TR, a wave of rate f appears at
    # |f - k / TR| (k the nearest integer). The voxel-averaged periodogram of
    # temporally white noise would be flat (peak over mean about 1 with
    # 70,000 voxels); this one must peak, at the alias of the run's mean
    # cardiac or respiratory rate (within 0.03 Hz: the rates wander by
    # 0.02-0.05 Hz, the frequency resolution is 1/292 s).
    tr = base["design"]["tr"]
    spectrum = np.mean(np.abs(np.fft.rfft(physio, axis=0)) ** 2, axis=1)[1:]
    frequencies = np.fft.rfftfreq(physio.shape[0], tr)[1:]
    assert spectrum.max() > 2.5 * spectrum.mean()
    aliases = [
        abs(rate - round(rate * tr) / tr)
        for rate in (run.parameters["cardiac_hz"], run.parameters["respiratory_hz"])
    ]
    peak = frequencies[spectrum.argmax()]
    assert min(abs(peak - alias) for alias in aliases) < 0.03, (peak, aliases)


def test_slow_physiology_is_in_band_autocorrelated_and_global(calibration, space3, base):
    run = calibration[1][0]
    slow = run.components["slow_physiological"].astype(np.float64)
    frame_times = BlockDesign.from_config(_simulation(base).design).frame_times_s
    drift = make_first_level_design_matrix(
        frame_times, events=None, drift_model="cosine", high_pass=1 / 128
    ).to_numpy()
    beta, *_ = np.linalg.lstsq(drift, slow, rcond=None)
    residual = slow - drift @ beta
    grey = space3.grey_voxels
    centred = slow - slow.mean(axis=0)
    # most of it lies above the 1/128 Hz high-pass, where the analysis keeps
    # it (the generator's expectation is 0.75); a component confined below the
    # cut-off would leave almost nothing
    kept = float(np.sum(residual[:, grey] ** 2) / np.sum(centred[:, grey] ** 2))
    assert kept > 0.5, kept
    # strongly autocorrelated (the generator's expectation is 0.96 after the
    # high-pass): a white component's lag one over 150 scans has SE
    # 1/sqrt(150) = 0.08 around 0, an aliased wave's is negative
    r = residual[:, grey]
    lag_one = float(np.mean(np.sum(r[1:] * r[:-1], axis=0) / np.sum(r**2, axis=0)))
    assert lag_one > 0.5, lag_one
    # half of its variance is one time course in every grey-matter voxel, so
    # the grey-matter mean keeps a large part of the voxels' variance:
    # expected = SLOW_GLOBAL_SHARE times the squared mean over the mean squared
    # gain when the heart-rate and breathing regressors are uncorrelated. In
    # one run of 150 scans they can correlate by chance (both are slow); at a
    # correlation of -0.9 the global part's variance drops to 0.2 of its
    # expectation and the ratio to a third of `expected`, so a quarter is the
    # bound. Smooth fields of random sign (6 mm) alone would average out over
    # the 20,000 grey voxels to well under 1% of the voxels' variance.
    mean_series = centred[:, grey].mean(axis=1)
    ratio = float(np.var(mean_series) / np.mean(np.var(centred[:, grey], axis=0)))
    gain = space3.physio_gain[grey]
    expected = SLOW_GLOBAL_SHARE * np.mean(gain) ** 2 / np.mean(gain**2)
    assert ratio > 0.25 * expected, (ratio, expected)


@pytest.fixture(scope="module")
def high_tsnr_fit(base, space3):
    """Least-squares needle/swab betas per voxel at tSNR 1000, nearly white noise, true HRF."""
    config = _config(
        base,
        noise__tsnr=1000.0,
        noise__drift_share=0.0,
        noise__motion_mm=0.0,
        noise__physio_share=0.0,
        noise__slow_physio_share=0.0,
        noise__fwhm_mm=0.0,
        # white noise reads a lag one of about -0.034 after the high-pass on
        # 148 scans (bench/noise_reach.py's lower end); -0.03 keeps the system
        # noise (5%) near white (exponent 0.15), where 0 would need a 1/f^1
        # system noise with its power at the task's frequency
        noise__ar1_rho=-0.03,
        noise__thermal_share=0.95,
        signal__hrf_delay_sd_s=0.0,
        signal__hrf_undershoot_sd_s=0.0,
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
        # with the usual 1/128 Hz cosine high-pass: the 5% system noise that
        # the config's minimum leaves is 1/f-like, slow power no lab leaves in
        drift = make_first_level_design_matrix(
            design.frame_times_s, events=None, drift_model="cosine", high_pass=1 / 128
        ).to_numpy()[:, :-1]
        x = np.column_stack(
            [regressors["needle"], regressors["swab"], np.ones(design.n_scans), drift]
        )
        y = run.bold.astype(np.float64)
        beta, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
        sigma2 = rss / (design.n_scans - x.shape[1])
        contrast = np.zeros(x.shape[1])
        contrast[:2] = 1.0, -1.0
        variance = contrast @ np.linalg.inv(x.T @ x) @ contrast * sigma2
        difference = contrast @ beta
        betas.append(100 * difference / beta[2])
        t_values.append(difference / np.sqrt(variance))
    planted = {
        name: np.mean([run.parameters["run_needle_minus_swab_psc"][name] for run in runs])
        for name in truth.needle_minus_swab_psc
    }
    return planted, np.mean(betas, axis=0), t_values, design.n_scans - x.shape[1]


def test_planted_amplitude_recovered_in_every_roi(high_tsnr_fit, space3):
    planted_amplitudes, needle_minus_swab_psc, _, _ = high_tsnr_fit
    for name, mask in space3.region_masks.items():
        estimate = needle_minus_swab_psc[mask[space3.mask]].mean()
        planted = planted_amplitudes[name]
        assert estimate == pytest.approx(planted, rel=0.05), name


def test_no_needle_swab_difference_outside_rois(high_tsnr_fit, space3):
    _, _, t_values, degrees_of_freedom = high_tsnr_fit
    inside = np.zeros(space3.mask.shape, bool) | space3.visual_mask
    for mask in space3.region_masks.values():
        inside |= mask
    outside = ~inside[space3.mask]
    for t in t_values:
        # White noise, OLS: |t| > 3.29 has probability 2 P(T > 3.29) per voxel
        # with T Student's t on the fit's degrees of freedom (0.0013 at 148 -
        # 3 - 3 cosines; the normal's 0.001 understates the tail). With n
        # independent voxels the count is Binomial(n, p); allow the mean plus
        # 4 of its SDs.
        n = int(outside.sum())
        p = 2 * stats.t.sf(3.29, df=degrees_of_freedom)
        expected = p * n
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
@pytest.mark.parametrize(
    ("section", "centres_key", "radius_key"),
    [("analysis", "rois", "roi_radius_mm"), ("regions", "centres", "radius_mm")],
)
def test_default_rois_and_regions_lie_in_grey_matter(
    default_config, voxel_mm, section, centres_key, radius_key
):
    anatomy = load_anatomy(voxel_mm, default_config["anatomy"]["grey_matter_threshold"])
    centres = default_config[section][centres_key]
    masks = sphere_masks(
        centres, default_config[section][radius_key], anatomy.affine, anatomy.grey_mask
    )
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
        write_subject(
            _simulation(config),
            config["n_subjects"],
            1,
            tmp_path / copy_name / "bids",
            tmp_path / copy_name / "truth",
            space3,
        )
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_adding_subjects_leaves_others_unchanged(base, space3, tmp_path):
    small = _config(base, design__n_runs=1, n_subjects=3)
    large = _config(base, design__n_runs=1, n_subjects=8)
    for name, config in (("small", small), ("large", large)):
        write_subject(
            _simulation(config),
            config["n_subjects"],
            2,
            tmp_path / name / "bids",
            tmp_path / name / "truth",
            space3,
        )
    small_files = _digest(tmp_path / "small" / "bids")
    assert small_files == _digest(tmp_path / "large" / "bids")
    assert draw_subject(_simulation(small), 2, small["n_subjects"]) == draw_subject(
        _simulation(large), 2, large["n_subjects"]
    )


def test_motion_leaves_variance_after_six_regressors(calibration, base, space3):
    run = calibration[1][0]
    analysis = AnalysisConfig.from_dict(base["analysis"])
    design = BlockDesign.from_config(_simulation(base).design)
    grey = space3.grey_voxels
    x = first_level_design(
        run.events,
        confound_regressors([run.confounds], analysis.confounds)[0],
        design.frame_times_s,
        analysis,
    )
    table = component_removal(
        {"motion": run.components["motion"][:, grey]}, x, space3.baseline[grey]
    ).set_index("component")
    # motion is not linear in the six parameters (resampling, spin history)
    # and they are estimated with error, so the first level leaves part of it
    assert table.loc["head motion", "share_remaining"] > 1e-3


def _motion_left_by_six_regressors(config: dict, space) -> float:
    """Share of the motion effect's variance the first-level design leaves (one run)."""
    simulation = _simulation(config)
    analysis = AnalysisConfig.from_dict(config["analysis"])
    run = simulate_subject(
        simulation,
        0,
        draw_subject(simulation, 0, config["n_subjects"]),
        space,
        keep_components=True,
    )[0]
    x = first_level_design(
        run.events,
        confound_regressors([run.confounds], analysis.confounds)[0],
        BlockDesign.from_config(simulation.design).frame_times_s,
        analysis,
    )
    table = component_removal({"motion": run.components["motion"]}, x, space.baseline)
    return float(table.set_index("component").loc["head motion", "share_remaining"])


def test_motion_nonlinearity_survives_exact_realignment(base, space3):
    # without realignment error and spin history, what the six regressors
    # leave is the curvature of the image under the moved head: it must be there
    config = _config(
        _quiet(base),
        noise__realignment_error_mm=0.0,
        noise__spin_history_psc_per_mm=0.0,
        noise__slice_order="none",
        design__n_runs=1,
    )
    # An effect linear in the six exact parameters would be removed up to
    # float32 rounding (a share of about 1e-12); the curvature leaves about
    # 1e-4 of the motion variance at the default 0.03 mm steps.
    assert _motion_left_by_six_regressors(config, space3) > 1e-5


def test_motion_within_a_volume_survives_exact_realignment(base, space3):
    """Slices acquired during the TR see the head at their own time (the default order).

    Realignment (here exact) reports one position per volume, so what each
    slice saw beyond it stays: with the default 0.03 mm steps about 0.5% of the
    motion variance, against about 0.015% that the curvature alone leaves when
    every slice is acquired at once (same walk, same seed). The factor 5 is a
    floor far below that 30-fold difference.
    """
    exact = _config(
        _quiet(base),
        noise__realignment_error_mm=0.0,
        noise__spin_history_psc_per_mm=0.0,
        design__n_runs=1,
    )
    assert base["noise"]["slice_order"] == "interleaved"
    within = _motion_left_by_six_regressors(exact, space3)
    at_once = _motion_left_by_six_regressors(_config(exact, noise__slice_order="none"), space3)
    assert within > 5 * at_once, (within, at_once)


def test_slices_are_acquired_in_the_configured_order():
    from empathy_fmri.simulation.motion import slice_acquisition_times

    tr = 2.0
    interleaved = slice_acquisition_times(6, tr, "interleaved")
    # even slices 0, 2, 4 in the first half of the TR, odd ones in the second
    np.testing.assert_allclose(interleaved, [0.0, 1.0, 1 / 3, 4 / 3, 2 / 3, 5 / 3])
    np.testing.assert_allclose(slice_acquisition_times(4, tr, "ascending"), [0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(slice_acquisition_times(5, tr, "none"), 0.0)
    with pytest.raises(ValueError, match="slice order"):
        slice_acquisition_times(5, tr, "descending")


def test_flinch_puts_a_needle_effect_at_the_brain_edge(calibration, base, space3):
    from scipy import ndimage

    edge = (space3.mask & ~ndimage.binary_erosion(space3.mask))[space3.mask]
    config = _config(_quiet(base), noise__flinch_mm=1.0, noise__flinch_probability=1.0)
    simulation = _simulation(config)
    analysis = AnalysisConfig.from_dict(base["analysis"])
    design = BlockDesign.from_config(simulation.design)
    flinching = simulate_subject(
        simulation,
        0,
        draw_subject(simulation, 0, config["n_subjects"]),
        space3,
        keep_components=True,
    )
    # The calibration's subject 0 is the same subject without the flinch (the
    # flinch has its own random stream, so everything else is identical): the
    # difference of the two motion effects is what the flinch caused.
    caused = {}
    for label, confounds in (("no regressors", None), ("six regressors", MOTION)):
        per_run = []
        for still, moved in zip(calibration[1], flinching, strict=True):
            x = first_level_design(
                moved.events,
                None if confounds is None else moved.confounds[confounds],
                design.frame_times_s,
                analysis,
            )
            effect = task_effect(
                {"still": still.components["motion"], "moved": moved.components["motion"]},
                x,
                space3.baseline,
            )
            per_run.append(effect["moved"] - effect["still"])
        caused[label] = np.asarray(per_run)
    raw = caused["no regressors"]
    # Locked to the needle videos, the flinch's effect is the same in both
    # runs, and largest at the brain's edge, where the image intensity changes
    # fastest: about 0.3 psc there at a 1 mm flinch, as large as the
    # empathy effects themselves.
    assert np.corrcoef(raw[0], raw[1])[0, 1] > 0.9
    mean_raw = np.abs(raw.mean(axis=0))
    assert mean_raw[edge].mean() > 3 * mean_raw[~edge].mean()
    assert mean_raw[edge].mean() > 0.1
    # The six regressors remove most of it but not all: they are estimated with
    # error and the image change is not linear in them.
    regressed = np.abs(caused["six regressors"]).mean(axis=0)
    assert 0.001 < regressed[edge].mean() < 0.5 * np.abs(raw).mean(axis=0)[edge].mean()


def test_run_amplitudes_vary_around_the_subject_amplitude():
    rng = np.random.default_rng(3)
    subject = {"AI_L": 0.5, "IFG_L": -0.2}
    sd = 0.2
    runs = [run_amplitudes(rng, subject, sd) for _ in range(200)]
    for name, value in subject.items():
        values = np.array([run[name] for run in runs])
        # mean within 4 SE (sd / sqrt(200)); sample SD within 25% (chi-square
        # with 199 df: 4 of its SDs are about 20%)
        assert values.mean() == pytest.approx(value, abs=4 * sd / np.sqrt(200))
        assert values.std(ddof=1) == pytest.approx(sd, rel=0.25)
    assert run_amplitudes(rng, subject, 0.0) == subject


@pytest.mark.parametrize("thermal_share", [0.0, 0.5])
def test_thermal_noise_is_white_in_time(thermal_share):
    """Only the system noise is 1/f: the mixture's lag one is (1 - thermal share) * c.

    ``c`` is the system noise's lag-one correlation from its spectrum. The
    target is the expectation of the estimator on demeaned series, computed
    from the covariance matrix to second order (so the estimator's own bias
    is in it).
    Spatially white noise (kernel 0) makes the voxels independent, so the
    standard error of the mean lag-one estimate is the voxels' SD over
    sqrt(n). Thermal noise with the system's spectrum would give c (0.5),
    about 50 standard errors away at thermal share 0.5.
    """
    from scipy import linalg

    from empathy_fmri.simulation.noise import (
        gaussian_noise,
        power_law_autocorrelation,
        temporal_factor,
    )

    n_scans, tr_s, exponent = 400, 2.0, 1.0
    correlation = power_law_autocorrelation(n_scans, tr_s, exponent, 1 / 128)
    mask = np.ones((12, 12, 12), dtype=bool)
    factor = temporal_factor(n_scans, tr_s, exponent, 1 / 128)
    noise = gaussian_noise(np.random.default_rng(5), mask, n_scans, 0.0, thermal_share, factor)
    noise = noise - noise.mean(axis=0)
    lag_one = np.sum(noise[1:] * noise[:-1], axis=0) / np.sum(noise**2, axis=0)
    covariance = (1 - thermal_share) * linalg.toeplitz(correlation) + thermal_share * np.eye(
        n_scans
    )
    centre = np.eye(n_scans) - 1.0 / n_scans
    c = centre @ covariance @ centre
    # the estimator is a ratio X / Y of quadratic forms in Gaussian data; its
    # expectation to second order is E X / E Y - Cov(X, Y) / (E Y)^2
    # + E X Var(Y) / (E Y)^3, with Var(Y) = 2 tr(C^2), Cov(X, Y) = 2 tr(A C^2)
    lag = np.eye(n_scans, k=1)
    a = (lag + lag.T) / 2
    mean_x, mean_y = np.trace(a @ c), np.trace(c)
    var_y, cov_xy = 2 * np.trace(c @ c), 2 * np.trace(a @ c @ c)
    expected = mean_x / mean_y - cov_xy / mean_y**2 + mean_x * var_y / mean_y**3
    se = lag_one.std(ddof=1) / np.sqrt(lag_one.size)
    assert abs(lag_one.mean() - expected) < 4 * se, (lag_one.mean(), expected, se)
    assert correlation[1] > 0.4  # the system noise is far from white
    np.testing.assert_allclose(noise.var(axis=0).mean(), 1.0, atol=0.15)


def test_study_events_are_every_subjects_simulated_events(default_config, tmp_path):
    """The one events job writes exactly the planned files (every subject x run, none
    more), each with the blocks the simulator builds the BOLD data from (onsets
    are stored to the ms, so they agree within 0.5 ms)."""
    import pandas as pd

    from empathy_fmri.config.sections import DesignConfig
    from empathy_fmri.io.layout import raw_events_path, run_key
    from empathy_fmri.jobs.simulate import write_study_events
    from empathy_fmri.simulation.design import subject_events
    from empathy_fmri.simulation.population import participant_id

    design = DesignConfig.from_dict(default_config["design"])
    seed, n_subjects, task = default_config["seed"], 3, "empathy"
    write_study_events(seed, task, design, n_subjects, tmp_path)
    planned = {
        raw_events_path(tmp_path, run_key(participant_id(i, n_subjects), task, r))
        for i in range(n_subjects)
        for r in range(1, design.n_runs + 1)
    }
    assert set(tmp_path.rglob("*_events.tsv")) == planned
    for index in range(n_subjects):
        simulated = subject_events(BlockDesign.from_config(design), seed, index)
        for run, expected in enumerate(simulated, start=1):
            path = raw_events_path(tmp_path, run_key(participant_id(index, n_subjects), task, run))
            written = pd.read_csv(path, sep="\t")
            assert list(written["trial_type"]) == list(expected["trial_type"])
            np.testing.assert_allclose(written["onset"], expected["onset"], atol=5e-4)
            np.testing.assert_allclose(written["duration"], expected["duration"], atol=5e-4)
