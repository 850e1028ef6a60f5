"""The fast summary-level Monte Carlo of power and inflation, and its calibration.

Statistical tolerances follow from the Monte Carlo error of the number of
simulated studies: a share p estimated from M studies has SE sqrt(p(1-p)/M).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
from scipy import ndimage, stats

from empathy_fmri.analysis.brain_behaviour import holm
from empathy_fmri.config import ConfigError, StudyConfig, validate_config
from empathy_fmri.evaluation.inference import (
    batched_holm,
    batched_pearson,
    fisher_z_power,
    pearson_p_value,
)
from empathy_fmri.evaluation.measurement import (
    MeasurementModel,
    calibrate_measurement,
    signal_gain,
)
from empathy_fmri.evaluation.monte_carlo import (
    PopulationModel,
    expected_correlations,
    null_pairs,
    power_rng,
    power_table,
    simulate_correlations,
    summarise_correlations,
)

SAMPLE_SIZES = [19, 30, 50, 100, 200, 400]


def _rois(config: dict) -> list[str]:
    return list(config["signal"]["rois"])


def _study(config: dict) -> StudyConfig:
    """The typed sections of a validated config dict."""
    return StudyConfig.from_dict(config)


def _uncoupled(config: dict) -> dict:
    """Every coupling zero: no ROI x score pair is correlated in the population."""
    config = copy.deepcopy(config)
    for model in config["signal"]["rois"].values():
        model["trait_coupling"] = 0.0
    config["behaviour"]["D_trait_coupling"] = 0.0
    config["behaviour"]["U_trait_coupling"] = 0.0
    return config


def test_fisher_z_power_textbook_values():
    # Cohen (1988), table 3.4.1: r = 0.3 needs n = 85 for 80% power (two-sided 0.05).
    assert fisher_z_power(0.3, 85, 0.05) == pytest.approx(0.80, abs=0.01)
    assert fisher_z_power(0.0, 19, 0.05) == pytest.approx(0.05)
    negative = fisher_z_power(-0.5, 40, 0.05)
    assert negative == pytest.approx(fisher_z_power(0.5, 40, 0.05))


def test_pearson_p_value_matches_scipy():
    rng = np.random.default_rng(3)
    for n in (5, 19, 200):
        x = rng.normal(size=n)
        y = 0.3 * x + rng.normal(size=n)
        test = stats.pearsonr(x, y)
        assert pearson_p_value(np.array(test.statistic), n) == pytest.approx(test.pvalue)
    assert np.isnan(pearson_p_value(np.array(np.nan), 19))


def test_batched_pearson_matches_corrcoef():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 12, 2))
    y = rng.normal(size=(3, 12, 4))
    y[1, :, 3] = 1.0  # constant score: undefined
    r = batched_pearson(x, y)
    for s in range(3):
        for a in range(2):
            for b in range(3):
                assert r[s, a, b] == pytest.approx(np.corrcoef(x[s, :, a], y[s, :, b])[0, 1])
    assert np.isnan(r[1, 0, 3])


def test_batched_holm_equals_the_analysis_holm_row_by_row():
    """The power's Holm is the analysis's Holm, family by family, to the last bit.

    Random p values with NaN (dropped from the family, as the analysis drops an
    undefined correlation), exact ties (the adjusted value must not depend on
    their order), p = 0 and 1, a row of NaN only and a family of one test.
    """
    rng = np.random.default_rng(12)
    p = rng.uniform(size=(3000, 15))
    p[rng.uniform(size=p.shape) < 0.1] = np.nan
    p[:, 4] = p[:, 3] = np.round(p[:, 3], 1)  # ties, some of them at 0 and 1
    p[:, 7] = p[:, 6]
    p[0] = np.nan
    p[1, :3] = [0.0, 1.0, 0.0]
    expected = np.array([holm(row) for row in p])
    np.testing.assert_array_equal(batched_holm(p), expected)
    single = rng.uniform(size=(20, 1))
    np.testing.assert_array_equal(batched_holm(single), single)  # m = 1: no correction
    with pytest.raises(ValueError, match="2-D"):
        batched_holm(p[0])


def test_summaries_on_known_correlations():
    # Four studies of n = 10: r = 0.9 twice (p = 0.0004), -0.9 once, 0 once.
    r = np.array([0.9, 0.9, -0.9, 0.0])[:, None]
    summary = summarise_correlations(r, 10, np.array([0.3]), 0.05)
    assert summary["power"][0] == pytest.approx(0.75)
    assert summary["mean_abs_r_significant"][0] == pytest.approx(0.9)
    assert summary["exaggeration_ratio"][0] == pytest.approx(3.0)
    assert summary["type_s"][0] == pytest.approx(1 / 3)
    assert summary["r_median"][0] == pytest.approx(0.45)
    null = summarise_correlations(r, 10, np.array([0.0]), 0.05)
    assert np.isnan(null["exaggeration_ratio"][0]) and np.isnan(null["type_s"][0])


def test_null_pairs_follow_the_couplings(default_config):
    study = _study(default_config)
    pairs = null_pairs(study.signal, study.behaviour)
    # default: U is not coupled to the trait, D is
    assert all(pairs[(roi, "U")] for roi in _rois(default_config))
    assert not any(pairs[(roi, "D")] for roi in _rois(default_config))
    uncoupled = _study(_uncoupled(default_config))
    assert all(null_pairs(uncoupled.signal, uncoupled.behaviour).values())


def test_perfect_measurement_matches_fisher_z(default_config):
    """With perfect measurement the fast mode's power is the analytic Fisher-z power.

    Tolerance 0.02 (the issue's). Budget: 20,000 studies per N give a Monte
    Carlo SE of at most 0.5 / sqrt(20000) = 0.0035, so 4 SE = 0.014; the
    Fisher-z formula approximates the exact power of the t test of r by less
    than 0.005 at N >= 19 for bivariate normal data, and the logit-normal D
    and U are close to normal at the default SDs. The population r comes from
    10^6 simulated people (SE 0.001, moving power by < 0.002).
    """
    study = _study(default_config)
    signal, behaviour = study.signal, study.behaviour
    scores = study.analysis.scores
    perfect = MeasurementModel.perfect(_rois(default_config))
    expected = expected_correlations(
        signal, behaviour, scores, perfect, np.random.default_rng(10)
    )
    rho = expected["r_population"].to_numpy().reshape(len(scores), -1).T
    for n in SAMPLE_SIZES:
        r = simulate_correlations(
            signal, behaviour, scores, n, 20_000, np.random.default_rng(n), perfect,
            measure_behaviour=False,
        )
        observed = summarise_correlations(r, n, rho, 0.05)["power"]
        analytic = fisher_z_power(rho, n, 0.05)
        assert np.max(np.abs(observed - analytic)) <= 0.02, (n, observed - analytic)


def test_null_calibration_false_positive_rate_is_alpha(default_config):
    """Every coupling zero: each pair's share of p < alpha is alpha.

    Under the null the t test of r is exact (the brain measure is normal and
    independent of the score), so the share of false positives in M studies
    is Binomial(M, alpha) / M: SE = sqrt(0.05 * 0.95 / 10000) = 0.00218.
    Tolerance 4 SE = 0.0087 per cell; with 45 cells the chance that a correct
    implementation fails is about 45 * 6e-5 = 0.003.
    """
    config = _uncoupled(default_config)
    rois = _rois(config)
    measurement = MeasurementModel({r: 0.85 for r in rois}, {r: 0.2 for r in rois})
    population = PopulationModel.from_study(_study(config))
    table = power_table(population, [19, 50, 200], 10_000, measurement, 0.05, 7,
                        n_draws=200_000)
    assert table["null_pair"].all()
    assert (table["r_population"] == 0).all()
    se = np.sqrt(0.05 * 0.95 / 10_000)
    deviation = (table["power"] - 0.05).abs()
    assert deviation.max() <= 4 * se, table.loc[deviation.idxmax()]
    assert table["n_undefined"].sum() == 0


def test_power_table_columns_and_attenuation(default_config):
    rois = _rois(default_config)
    measurement = MeasurementModel({r: 0.9 for r in rois}, {r: 0.25 for r in rois})
    population = PopulationModel.from_study(_study(default_config))
    table = power_table(population, [19, 100], 10_000, measurement, 0.05, 1,
                        n_draws=300_000)
    for column in ("sample_size", "roi", "score", "power", "power_mc_se", "r_median", "r_q025",
                   "r_q975", "exaggeration_ratio", "type_s", "power_fisher_z",
                   "power_fisher_z_perfect", "r_population", "r_attenuated", "r_expected",
                   "reliability_brain", "reliability_behaviour"):
        assert column in table.columns
    assert len(table) == 2 * len(rois) * len(default_config["analysis"]["scores"])
    coupled = table[~table["null_pair"]]
    # Spearman's attenuation: r_population * sqrt(rel_brain * rel_behaviour) is the
    # r that measured data give (computed directly from 300,000 people: SE 0.002);
    # the PD estimates' error is not exactly classical, hence 0.01.
    assert np.allclose(coupled["r_attenuated"], coupled["r_expected"], atol=0.01)
    # brain reliability = (0.9 * 0.3)^2 / ((0.9 * 0.3)^2 + 0.25^2)
    assert coupled["reliability_brain"].iloc[0] == pytest.approx(0.0729 / (0.0729 + 0.0625))
    # the Monte Carlo agrees with Fisher z at the attenuated r (4 SE + 0.01 for Fisher z)
    gap = (coupled["power"] - coupled["power_fisher_z"]).abs()
    assert (gap <= 4 * coupled["power_mc_se"] + 0.01).all()
    # the winner's curse: at N = 19 significant studies overstate |r|
    small = coupled[coupled["sample_size"] == 19]
    assert (small["exaggeration_ratio"] > 1.5).all()


def test_fast_mode_speed(default_config):
    """10,000 studies of the largest default N in well under a minute on one core."""
    rois = _rois(default_config)
    measurement = MeasurementModel({r: 0.9 for r in rois}, {r: 0.2 for r in rois})
    study = _study(default_config)
    start = time.perf_counter()
    simulate_correlations(
        study.signal, study.behaviour, study.analysis.scores, 400, 10_000,
        np.random.default_rng(0), measurement,
    )
    assert time.perf_counter() - start < 60


def test_seeds_make_runs_reproducible(default_config):
    rois = _rois(default_config)
    model = MeasurementModel.perfect(rois)
    study = _study(default_config)
    sections = (study.signal, study.behaviour, study.analysis.scores)
    a = simulate_correlations(*sections, 19, 50, power_rng(1, 2, 19), model)
    b = simulate_correlations(*sections, 19, 50, power_rng(1, 2, 19), model)
    c = simulate_correlations(*sections, 19, 50, power_rng(1, 2, 30), model)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def _sphere(shape, centre, radius):
    grid = np.indices(shape).transpose(1, 2, 3, 0)
    return np.linalg.norm(grid - np.asarray(centre), axis=-1) <= radius


@pytest.mark.parametrize("sigma_voxels", [0.0, 1.5])
def test_calibration_recovers_the_roi_mean_variance(sigma_voxels):
    """The null-position estimate of c = Var(ROI mean) / voxel variance.

    White noise: c = 1 / n_voxels. Gaussian-smoothed white noise (kernel SD s
    voxels, renormalised to unit variance): voxel errors correlate as
    exp(-d^2 / (4 s^2)), so c = mean over voxel pairs of that. c is estimated
    as a mean of squared normal means (relative SE sqrt(2 / m) for m
    independent ones). Positions more than an ROI diameter plus 4 s (11
    voxels) apart are practically independent, so the 24^3 periodic volume
    holds at least (24 / 11)^3 = 10 per subject: m >= 3000 over 300 subjects,
    relative SE <= 0.026, tolerance 4 SE = 0.1 (plus 0.02 for the discrete
    kernel against the continuous formula).
    """
    rng = np.random.default_rng(11)
    shape = (24, 24, 24)
    affine = np.eye(4)
    roi = _sphere(shape, (6, 6, 6), 2.5)
    n_subjects = 300
    effects, variances = [], []
    for _ in range(n_subjects):
        field = rng.standard_normal(shape)
        if sigma_voxels:
            field = ndimage.gaussian_filter(field, sigma_voxels, mode="wrap")
            field /= field.std()
        effects.append(field)
        variances.append(np.ones(shape))
    table = calibrate_measurement(
        [_image(e) for e in effects], [_image(v) for v in variances], {"roi": roi},
        {"roi": (6, 6, 6)}, affine, min_distance_mm=7.0,
    )
    voxels = np.argwhere(roi)
    if sigma_voxels:
        distance2 = ((voxels[:, None] - voxels[None]) ** 2).sum(-1)
        expected = float(np.mean(np.exp(-distance2 / (4 * sigma_voxels**2))))
    else:
        expected = 1 / len(voxels)
    row = table.iloc[0]
    assert row["n_voxels"] == len(voxels)
    assert row["correlation_factor"] == pytest.approx(expected, rel=0.12)
    assert row["error_sd_psc"] == pytest.approx(np.sqrt(row["correlation_factor"]))


def _image(data):
    import nibabel as nib

    return nib.Nifti1Image(np.asarray(data, np.float32), np.eye(4))


def test_measurement_model_table_round_trip():
    import pandas as pd

    table = pd.DataFrame({"roi": ["a", "b"], "gain": [0.8, 1.0], "error_sd_psc": [0.3, 0.0]})
    model = MeasurementModel.from_table(table)
    reliability = model.reliability({"a": 0.3, "b": 0.0})
    assert reliability["a"] == pytest.approx(0.0576 / (0.0576 + 0.09))
    assert np.isnan(reliability["b"])
    with pytest.raises(ValueError, match="gain"):
        MeasurementModel.from_table(table.drop(columns="gain"))


def test_signal_gain_shrinks_with_smoothing(tiny_config):
    from empathy_fmri.simulation.subject import build_space

    study = _study(tiny_config)
    anatomy, signal = study.anatomy, study.signal
    space = build_space(anatomy, signal)
    none = signal_gain(anatomy, signal, 0.0, space)
    some = signal_gain(anatomy, signal, 6.0, space)
    more = signal_gain(anatomy, signal, 12.0, space)
    for roi in _rois(tiny_config):
        assert none[roi] == 1.0
        assert 0 < more[roi] < some[roi] < 1


def test_power_config_defaults_and_cross_check(default_config):
    assert 19 in default_config["power"]["sample_sizes"]
    assert default_config["power"]["n_studies"] >= 10_000
    config = copy.deepcopy(default_config)
    config["power"]["replicates"]["voxel_size_mm"] = 8
    config["anatomy"]["roi_radius_mm"] = 6
    with pytest.raises(ConfigError, match="power.replicates.voxel_size_mm"):
        validate_config(config)
    config = copy.deepcopy(default_config)
    config["power"]["n_studies"] = 10
    with pytest.raises(ConfigError, match="power.n_studies"):
        validate_config(config)
