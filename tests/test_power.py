"""The fast summary-level Monte Carlo of power and inflation, and its calibration.

Statistical tolerances follow from the Monte Carlo error of the number of
simulated studies: a share p estimated from M studies has SE sqrt(p(1-p)/M).
"""

from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np
import pandas as pd
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
    family_wise_error,
    null_pairs,
    power_rng,
    power_table,
    simulate_correlations,
    simulate_studies,
    summarise_correlations,
)

SAMPLE_SIZES = [19, 30, 50, 100, 200, 400]


def _rois(config: dict) -> list[str]:
    return list(config["analysis"]["rois"])


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
    # a family of one test: Holm changes nothing
    assert summary["power_holm"][0] == summary["power"][0]
    assert summary["exaggeration_ratio_holm"][0] == pytest.approx(3.0)
    assert summary["type_s_holm"][0] == pytest.approx(1 / 3)


def test_holm_inflation_counts_only_the_studies_significant_after_holm():
    """Type M and S of the study's own test: only Holm-significant studies enter.

    Three pairs per study at n = 10: r = 0.95 (p about 3e-5), r = +-0.66
    (p = 0.038: significant alone, but Holm doubles it to 0.076) and r = 0.
    """
    r = np.array([[0.95, 0.66, 0.0], [0.95, -0.66, 0.0], [0.95, 0.66, 0.0]])
    summary = summarise_correlations(r, 10, np.array([0.3, 0.3, 0.3]), 0.05)
    assert summary["power"][1] == 1.0 and summary["power_holm"][1] == 0.0
    assert summary["type_s"][1] == pytest.approx(1 / 3)
    assert summary["exaggeration_ratio"][1] == pytest.approx(0.66 / 0.3)
    assert np.isnan(summary["type_s_holm"][1]) and np.isnan(summary["exaggeration_ratio_holm"][1])
    assert summary["exaggeration_ratio_holm"][0] == pytest.approx(0.95 / 0.3)
    assert summary["type_s_holm"][0] == 0.0


def test_one_sample_size_reproduces_its_rows_of_the_table(default_config):
    """Every size has its own stream: asking for N = 19 alone gives the table's N = 19 rows.

    This is what lets a notebook recompute one cell of ``power.tsv`` exactly.
    """
    rois = _rois(default_config)
    measurement = MeasurementModel({r: 0.9 for r in rois}, {r: 0.25 for r in rois})
    population = PopulationModel.from_study(_study(default_config))
    full = power_table(population, [19, 30, 100], 500, measurement, 0.05, 7, n_draws=20_000)
    alone = power_table(population, [19], 500, measurement, 0.05, 7, n_draws=20_000)
    at_19 = full[full["sample_size"] == 19].reset_index(drop=True)
    pd.testing.assert_frame_equal(at_19, alone)
    studies = simulate_studies(population, 19, 500, measurement, 7)
    summary = summarise_correlations(
        studies, 19, at_19["r_population"].to_numpy().reshape(-1, len(rois)).T, 0.05
    )
    np.testing.assert_array_equal(summary["power_holm"].T.ravel(), at_19["power_holm"])


def test_holm_power_is_the_analysis_holm_applied_to_each_study():
    """power_holm counts, per pair, the studies whose analysis-style Holm p < alpha.

    Each simulated study's (4 x 3) correlations are one family, Holm-adjusted
    with the analysis's own :func:`holm` here, study by study; NaN r (an
    undefined correlation) leaves the family, as in the analysis.
    """
    rng = np.random.default_rng(13)
    n = 12
    r = np.clip(rng.normal(0.35, 0.3, size=(500, 4, 3)), -0.99, 0.99)
    r[::17, 1, 2] = np.nan
    summary = summarise_correlations(r, n, np.full((4, 3), 0.3), 0.05)
    p = pearson_p_value(r, n).reshape(500, -1)
    by_study = np.array([holm(row) for row in p]).reshape(r.shape)
    np.testing.assert_array_equal(summary["n_significant_holm"], (by_study < 0.05).sum(axis=0))
    assert np.all(summary["power_holm"] <= summary["power"])
    assert summary["power_holm"].sum() < summary["power"].sum()  # the correction bites
    null = np.zeros((4, 3), bool)
    null[:, 2] = True
    family = family_wise_error(r, n, null, 0.05)
    assert family["family_size"] == 12 and family["n_null_pairs"] == 4
    assert family["fwer_holm"] == pytest.approx(((by_study[:, :, 2] < 0.05).any(axis=1)).mean())
    assert family["fwer_uncorrected"] == pytest.approx(
        (p.reshape(r.shape)[:, :, 2] < 0.05).any(axis=1).mean()
    )
    assert np.isnan(family_wise_error(r, n, np.zeros((4, 3), bool), 0.05)["fwer_holm"])


def test_null_pairs_follow_the_couplings(default_config):
    study = _study(default_config)
    pairs = null_pairs(study.signal.for_rois(_rois(default_config)), study.behaviour)
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
    signal, behaviour = study.signal.for_rois(_rois(default_config)), study.behaviour
    scores = study.analysis.scores
    perfect = MeasurementModel.perfect(_rois(default_config))
    expected = expected_correlations(signal, behaviour, scores, perfect, np.random.default_rng(10))
    rho = expected["r_population"].to_numpy().reshape(len(scores), -1).T
    for n in SAMPLE_SIZES:
        r = simulate_correlations(
            signal,
            behaviour,
            scores,
            n,
            20_000,
            np.random.default_rng(n),
            perfect,
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
    table = power_table(population, [19, 50, 200], 10_000, measurement, 0.05, 7, n_draws=200_000)
    assert table["null_pair"].all()
    assert (table["r_population"] == 0).all()
    se = np.sqrt(0.05 * 0.95 / 10_000)
    deviation = (table["power"] - 0.05).abs()
    assert deviation.max() <= 4 * se, table.loc[deviation.idxmax()]
    assert table["n_undefined"].sum() == 0
    assert (table["power_holm"] <= table["power"]).all()


def test_null_family_wise_rates_uncorrected_and_holm(default_config):
    """Every coupling zero: Holm keeps the family-wise rate at alpha, no correction does not.

    The family is the m = 5 ROIs x 3 scores = 15 pairs; all are null. Under
    this null the ROIs are independent of each other and of the scores, and
    the brain measure is normal, so the t test of r is exact and the r of
    different ROIs are independent (given the scores, and hence outright);
    only the three scores of one ROI are dependent (willingness to harm is a
    function of D and U). Hence, with FWER the share of studies with at
    least one p < alpha:

    * uncorrected: 1 - (1 - alpha)^5 = 0.226 <= FWER (the five ROIs' tests of
      one score are independent) and FWER <= 1 - (1 - alpha)^15 = 0.537
      (Sidak's inequality for two-sided tests of correlated, close to normal
      statistics; the value for 15 independent tests);
    * Holm: under the complete null it rejects anything only if
      min p < alpha / m, so 1 - (1 - alpha/m)^5 = 0.0166 <= FWER <= alpha
      (union bound).

    Each rate is a binomial share of M = 10,000 studies, SE <= sqrt(q(1 - q) / M)
    at the bound q (0.0050 at 0.537, 0.0042 at 0.226, 0.0022 at alpha); the
    tolerance is 4 such SE (a false failure has probability < 1e-4 per check).
    """
    config = _uncoupled(default_config)
    rois = _rois(config)
    measurement = MeasurementModel({r: 0.85 for r in rois}, {r: 0.2 for r in rois})
    population = PopulationModel.from_study(_study(config))
    m_studies, alpha = 10_000, 0.05
    table = power_table(population, [19, 100], m_studies, measurement, alpha, 8, n_draws=100_000)
    per_n = table.groupby("sample_size")[
        ["family_size", "n_null_pairs", "fwer_uncorrected", "fwer_holm"]
    ].agg(["min", "max"])
    for column in ("family_size", "n_null_pairs", "fwer_uncorrected", "fwer_holm"):
        assert (per_n[(column, "min")] == per_n[(column, "max")]).all()  # one value per N
    family = table.groupby("sample_size").first()
    m, n_rois = 15, len(rois)
    assert (family["family_size"] == m).all() and (family["n_null_pairs"] == m).all()

    def se(q: float) -> float:
        return float(np.sqrt(q * (1 - q) / m_studies))

    low, high = 1 - (1 - alpha) ** n_rois, 1 - (1 - alpha) ** m
    assert (family["fwer_uncorrected"] >= low - 4 * se(low)).all(), family
    assert (family["fwer_uncorrected"] <= high + 4 * se(high)).all(), family
    holm_low = 1 - (1 - alpha / m) ** n_rois
    assert (family["fwer_holm"] <= alpha + 4 * se(alpha)).all(), family
    assert (family["fwer_holm"] >= holm_low - 4 * se(holm_low)).all(), family


def test_holm_power_of_a_lone_strong_pair_is_that_of_a_test_at_alpha_over_m(default_config):
    """One coupled pair among m = 10 (IFG_L x D; scores D and U; other ROIs uncoupled).

    Per study, Holm's p of the pair is below alpha whenever its own p is below
    alpha / m (the Bonferroni step; every smaller p then passes too), and it
    can be below alpha with p >= alpha / m only if another pair's p is below
    alpha / m. So, exactly in every simulation:
    bonferroni <= power_holm <= bonferroni + escape <= power, with
    ``escape`` the share of studies with some other p < alpha / m, which is at
    most (m - 1) alpha / m by the union bound (the other pairs are null). The
    Bonferroni share is the power of one test at alpha / m: Fisher z within
    0.02 plus 4 Monte Carlo SE (the budget of
    test_perfect_measurement_matches_fisher_z), SE <= 0.5 / sqrt(20000).
    Perfect measurement; N = 30 puts that power near 0.5 (r about 0.54).
    """
    config = copy.deepcopy(default_config)
    for model in config["signal"]["rois"].values():
        model["trait_coupling"] = 0.0
    config["signal"]["rois"]["IFG_L"]["trait_coupling"] = 0.6
    config["behaviour"]["D_trait_coupling"] = 0.9
    study = _study(config)
    rois, scores = _rois(config), ("D", "U")
    study = dataclasses.replace(study, signal=study.signal.for_rois(rois))
    pairs = null_pairs(study.signal, study.behaviour)
    coupled = [(roi, score) for (roi, score), null in pairs.items() if score in scores and not null]
    assert coupled == [("IFG_L", "D")]
    perfect = MeasurementModel.perfect(rois)
    expected = expected_correlations(
        study.signal, study.behaviour, scores, perfect, np.random.default_rng(14), 300_000
    )
    rho = expected["r_population"].to_numpy().reshape(len(scores), -1).T
    assert np.count_nonzero(rho) == 1
    k = rois.index("IFG_L")
    n, m_studies, alpha, m = 30, 20_000, 0.05, rho.size
    r = simulate_correlations(
        study.signal,
        study.behaviour,
        scores,
        n,
        m_studies,
        np.random.default_rng(15),
        perfect,
        measure_behaviour=False,
    )
    summary = summarise_correlations(r, n, rho, alpha)
    p = pearson_p_value(r, n)
    bonferroni = float((p[:, k, 0] < alpha / m).mean())
    others = np.ones(rho.shape, bool)
    others[k, 0] = False
    escape = float((p[:, others] < alpha / m).any(axis=1).mean())
    holm_power, power = summary["power_holm"][k, 0], summary["power"][k, 0]
    assert bonferroni <= holm_power <= bonferroni + escape
    assert holm_power <= power
    mc = 4 * 0.5 / np.sqrt(m_studies)
    assert escape <= (m - 1) * alpha / m + mc
    single = float(fisher_z_power(rho[k, 0], n, alpha / m))
    assert abs(bonferroni - single) <= 0.02 + mc, (bonferroni, single)
    assert abs(power - float(fisher_z_power(rho[k, 0], n, alpha))) <= 0.02 + mc
    assert power - holm_power > 0.2  # the correction costs a study of 30 a lot here


def test_power_table_columns_and_attenuation(default_config):
    rois = _rois(default_config)
    measurement = MeasurementModel({r: 0.9 for r in rois}, {r: 0.25 for r in rois})
    population = PopulationModel.from_study(_study(default_config))
    table = power_table(population, [19, 100], 10_000, measurement, 0.05, 1, n_draws=300_000)
    for column in (
        "sample_size",
        "roi",
        "score",
        "power",
        "power_mc_se",
        "r_median",
        "r_q025",
        "r_q975",
        "exaggeration_ratio",
        "type_s",
        "power_fisher_z",
        "power_fisher_z_perfect",
        "r_population",
        "r_attenuated",
        "r_expected",
        "reliability_brain",
        "reliability_behaviour",
        "power_holm",
        "power_holm_mc_se",
        "n_significant_holm",
        "family_size",
        "n_null_pairs",
        "fwer_uncorrected",
        "fwer_holm",
        "fwer_uncorrected_mc_se",
        "fwer_holm_mc_se",
    ):
        assert column in table.columns
    # a Holm p is never below its p: Holm power never above the uncorrected power
    assert (table["power_holm"] <= table["power"]).all()
    # the family is the 5 x 3 ROI x score pairs; the 5 U pairs are null
    n_pairs = len(rois) * len(default_config["analysis"]["scores"])
    assert (table["family_size"] == n_pairs).all()
    null_per_n = table.groupby("sample_size")["null_pair"].transform("sum")
    assert (table["n_null_pairs"] == null_per_n).all() and (null_per_n == len(rois)).all()
    # Holm controls the family-wise rate whatever the other pairs do (strong
    # control): <= alpha + 4 binomial SE of 10,000 studies; with no correction
    # it is at least each null pair's own rate
    assert (table["fwer_holm"] <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / 10_000)).all()
    null_rows = table[table["null_pair"]]
    assert (null_rows["fwer_uncorrected"] >= null_rows["power"]).all()
    assert (table["fwer_uncorrected"] > table["fwer_holm"]).all()
    assert len(table) == 2 * len(rois) * len(default_config["analysis"]["scores"])
    coupled = table[~table["null_pair"]]
    # Spearman's attenuation: r_population * sqrt(rel_brain * rel_behaviour) is the
    # r that measured data give (computed directly from 300,000 people: SE 0.002);
    # the PD estimates' error is not exactly classical, hence 0.01.
    assert np.allclose(coupled["r_attenuated"], coupled["r_expected"], atol=0.01)
    # brain reliability = (0.9 * sd)^2 / ((0.9 * sd)^2 + 0.25^2), sd the ROI's SD (0.4)
    sd = default_config["signal"]["rois"][coupled["roi"].iloc[0]]["sd_psc"]
    true_variance = (0.9 * sd) ** 2
    assert coupled["reliability_brain"].iloc[0] == pytest.approx(
        true_variance / (true_variance + 0.0625)
    )
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
        study.signal.for_rois(rois),
        study.behaviour,
        study.analysis.scores,
        400,
        10_000,
        np.random.default_rng(0),
        measurement,
    )
    assert time.perf_counter() - start < 60


def test_seeds_make_runs_reproducible(default_config):
    rois = _rois(default_config)
    model = MeasurementModel.perfect(rois)
    study = _study(default_config)
    sections = (study.signal.for_rois(rois), study.behaviour, study.analysis.scores)
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
        [_image(e) for e in effects],
        [_image(v) for v in variances],
        {"roi": roi},
        {"roi": (6, 6, 6)},
        affine,
        min_distance_mm=7.0,
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


def test_signal_gain_shrinks_with_smoothing_and_with_offset(tiny_config):
    """Smoothing spreads a region's signal out of the ROI; an ROI off the region gets less.

    With the ROI centred on its region (the best case) the smoothed average
    recovers less and less of the amplitude as the smoothing widens, because
    the region's core is inside the ROI. The default ROIs sit 5-12 mm from the
    regions' centres and recover less than the centred ones, at any smoothing
    and for either estimate.
    """
    import dataclasses

    from empathy_fmri.simulation.subject import build_space

    study = _study(tiny_config)
    space = build_space(study.anatomy, study.regions, study.signal)
    centred = dataclasses.replace(
        study.analysis, rois={name: study.regions.centres[name] for name in study.analysis.rois}
    )

    def gain(analysis, estimate, smoothing=0.0):
        analysis = dataclasses.replace(analysis, roi_estimate=estimate, smoothing_fwhm_mm=smoothing)
        return signal_gain(study.anatomy, study.regions, study.signal, analysis, space)

    none, some, more = (gain(centred, "smoothed_average", f) for f in (0.0, 6.0, 12.0))
    for roi in _rois(tiny_config):
        assert 0 < more[roi] < some[roi] < none[roi], roi
    for estimate in ("roi_mean_glm", "smoothed_average"):
        best, offset = gain(centred, estimate, 6.0), gain(study.analysis, estimate, 6.0)
        for roi in _rois(tiny_config):
            assert 0 <= offset[roi] < best[roi], (estimate, roi)


def test_power_config_defaults_and_cross_check(default_config):
    assert 19 in default_config["power"]["sample_sizes"]
    assert default_config["power"]["n_studies"] >= 10_000
    config = copy.deepcopy(default_config)
    config["power"]["replicates"]["voxel_size_mm"] = 8
    config["analysis"]["roi_radius_mm"] = 6
    with pytest.raises(ConfigError, match="power.replicates.voxel_size_mm"):
        validate_config(config)
    config = copy.deepcopy(default_config)
    config["power"]["n_studies"] = 10
    with pytest.raises(ConfigError, match="power.n_studies"):
        validate_config(config)


def test_power_curves_draw_holm_solid_and_uncorrected_dashed(default_config):
    """Each panel draws power_holm as solid and power as dashed lines; the legend says so."""
    from empathy_fmri.plotting.power import plot_power_curves

    rois = _rois(default_config)
    measurement = MeasurementModel({r: 0.9 for r in rois}, {r: 0.2 for r in rois})
    population = PopulationModel.from_study(_study(default_config))
    table = power_table(population, [19, 100], 1000, measurement, 0.05, 3, n_draws=20_000)
    figure = plot_power_curves(table, 19)
    scores = list(dict.fromkeys(table["score"]))
    for ax, score in zip(figure.axes, scores, strict=True):
        rows = table[table["score"] == score].sort_values(["roi", "sample_size"])
        drawn = {"-": [], "--": []}
        for line in ax.get_lines():
            if line.get_linestyle() in drawn and line.get_marker() == "o":
                drawn[line.get_linestyle()].append(np.asarray(line.get_ydata(), float))
        for style, column in (("-", "power_holm"), ("--", "power")):
            expected = sorted(map(tuple, rows.groupby("roi")[column].apply(list)))
            assert sorted(map(tuple, drawn[style])) == expected, (score, column)
    labels = " ".join(text.get_text() for text in figure.legends[0].get_texts())
    assert "Holm across 15 pairs" in labels and "uncorrected" in labels
    assert "null pairs" in labels  # the family-wise false-positive rates


def test_run_variation_adds_to_the_calibrated_error():
    import pandas as pd

    from empathy_fmri.evaluation.measurement import add_run_variation

    table = pd.DataFrame({"roi": ["AI_L", "X"], "gain": [0.8, 0.0], "error_sd_psc": [0.3, 0.3]})
    out = add_run_variation(table, run_sd_psc=0.2, n_runs=2)
    # the mean of 2 runs carries variance 0.2^2 / 2, scaled by the gain squared
    expected = np.sqrt(0.3**2 + (0.8 * 0.2) ** 2 / 2)
    assert out.loc[0, "error_sd_psc"] == pytest.approx(expected)
    assert out.loc[1, "error_sd_psc"] == pytest.approx(0.3)  # no region, no signal
    assert list(out["noise_error_sd_psc"]) == [0.3, 0.3]
    assert table["error_sd_psc"].tolist() == [0.3, 0.3]  # the input is left alone


def test_null_positions_are_the_centres_where_the_whole_shape_is_valid():
    """The erosion gives, in candidate order, exactly the centres whose moved shape
    lies inside the grid and on valid voxels only, checked one candidate at a
    time (an asymmetric shape off its centre, a valid mask with holes, candidates
    at the grid's edge and in no particular order)."""
    from empathy_fmri.evaluation.measurement import _null_positions

    rng = np.random.default_rng(8)
    valid = rng.random((14, 12, 10)) < 0.9
    valid = ndimage.binary_opening(valid)
    offsets = np.argwhere(rng.random((3, 4, 2)) < 0.6) - [1, 0, 1] + [1, -1, 0]
    candidates = np.argwhere(np.ones(valid.shape, bool))[rng.permutation(valid.size)]

    def fits(centre):
        moved = centre + offsets
        inside = np.all((moved >= 0) & (moved < valid.shape))
        return inside and valid[tuple(moved.T)].all()

    expected = candidates[[fits(c) for c in candidates]]
    assert 0 < len(expected) < len(candidates)
    moved = _null_positions(candidates, offsets, valid, max_positions=10**6)
    np.testing.assert_array_equal(moved, expected[:, None, :] + offsets[None])
    few = _null_positions(candidates, offsets, valid, max_positions=7)
    pick = np.linspace(0, len(expected) - 1, 7).astype(int)
    np.testing.assert_array_equal(few, expected[pick][:, None, :] + offsets[None])
