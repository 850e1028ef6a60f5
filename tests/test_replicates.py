"""Complete replicate studies (simulate, first level, group, ROI, stats) vs. the fast mode.

Slow: each test runs a few dozen complete studies on a coarse grid (8 mm
voxels, one short run, OLS first level, few subjects) in two worker processes.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from empathy_fmri.config import StudyConfig, validate_config
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.monte_carlo import power_rng, simulate_correlations
from empathy_fmri.evaluation.replicates import compare_with_fast_mode, family_wise_error
from empathy_fmri.pipeline.replicate import (
    fast_mode_for_replicates,
    replicate_config,
    run_replicates,
)

#: Workers for the replicate studies (the test machine has two cores).
N_JOBS = 2


def _coarse(config: dict, n_subjects: int) -> dict:
    """A coarse, quick study design for replicates."""
    config = copy.deepcopy(config)
    config["design"].update(n_runs=1, blocks_per_condition=4)
    config["analysis"]["roi_radius_mm"] = 10
    config["analysis"].update(noise_model="ols", n_permutations_stats=99, n_bootstrap=99)
    config["power"]["replicates"].update(n_subjects=n_subjects, voxel_size_mm=8, n_permutations=100)
    # noise of 6 mm FWHM with a global drift cannot exist on an 8 mm grid (the
    # global part alone is smoother): 12 mm is 1.5 voxels, as 6 mm is at 4 mm
    config["noise"]["fwhm_mm"] = 12.0
    return validate_config(config)


@pytest.fixture(scope="module")
def strong_config(default_config) -> dict:
    """Strong couplings and 20 + 20 dilemmas, so that measurement error matters visibly."""
    config = copy.deepcopy(default_config)
    for model in config["signal"]["rois"].values():
        model.update(mean_psc=0.5, sd_psc=0.3, trait_coupling=0.9)
    config["behaviour"].update(
        n_congruent=20, n_incongruent=20, D_sd_logit=1.5, D_trait_coupling=0.9
    )
    return _coarse(config, n_subjects=16)


def test_replicate_config_changes_only_seed_and_grid(default_config):
    a = replicate_config(default_config, 0)
    b = replicate_config(default_config, 1)
    null = replicate_config(default_config, 0, null=True)
    assert len({a["seed"], b["seed"], null["seed"], default_config["seed"]}) == 4
    assert a["anatomy"]["voxel_size_mm"] == default_config["power"]["replicates"]["voxel_size_mm"]
    assert a["n_subjects"] == default_config["power"]["replicates"]["n_subjects"]
    assert a["signal"] == default_config["signal"]
    assert all(m["mean_psc"] == 0 and m["sd_psc"] == 0 for m in null["signal"]["rois"].values())


def test_compare_with_fast_mode_on_known_samples():
    """Samples from the same distribution pass; a shifted one fails."""
    rng = np.random.default_rng(5)
    fast = {("roi", "D"): rng.normal(0.3, 0.2, 20_000)}
    same = pd.DataFrame({"roi": "roi", "score": "D", "r": rng.normal(0.3, 0.2, 200)})
    shifted = same.assign(r=same["r"] + 0.2)
    assert compare_with_fast_mode(same, fast)["within_tolerance"].all()
    assert not compare_with_fast_mode(shifted, fast)["within_tolerance"].all()
    table = compare_with_fast_mode(same, fast)
    median = table[table["statistic"] == "q0.5"].iloc[0]
    # the median's SE of a normal sample: 1.2533 sd / sqrt(n)
    expected = 1.2533 * 0.2 * np.sqrt(1 / 200 + 1 / 20_000)
    assert median["se"] == pytest.approx(expected, rel=0.05)


def test_family_wise_error_counts_studies():
    summaries = pd.DataFrame(
        {
            "kind": ["null"] * 20,
            "family_wise_false_positive": [True] + [False] * 19,
            "family_wise_distant_false_positive": [False] * 20,
        }
    )
    row = family_wise_error(summaries, 0.05).iloc[0]
    assert row["n_family_wise_false_positive"] == 1
    assert row["rate"] == pytest.approx(0.05)
    assert row["p_above_alpha"] == pytest.approx(1 - 0.95**20)
    assert row["ci_low"] < 0.05 < row["ci_high"]


@pytest.mark.slow
@pytest.mark.replicates
def test_replicates_agree_with_fast_mode(strong_config):
    """The fast mode's distribution of r matches 20 complete studies of 16 people.

    Each quartile and the mean of r over the K = 20 replicates is compared
    with the fast mode's (10,000 studies, calibrated on the replicates' own
    first-level maps). A sample q-quantile has SE sqrt(q (1 - q) / K) / f(x_q)
    (f: density of r, from a KDE of the fast sample), the mean sd / sqrt(K);
    each difference must lie within the Bonferroni critical z for all 60
    comparisons at a family-wise 1% (z = 3.76). For the strongest pairs
    (population r about 0.7, sd of r about 0.2 at N = 16) that resolves
    errors in the expected r of about 3.76 * 0.2 / sqrt(20) = 0.17, which the
    second half of the test shows is enough to catch a fast mode that
    ignores measurement error.
    """
    results = run_replicates(strong_config, 20, n_jobs=N_JOBS)
    correlations = pd.concat([r.correlations for r in results], ignore_index=True)
    assert set(correlations["selection"]) == {
        "independent",
        "group_peak",
        "behaviour_peak",
        "cross_validated",
    }
    correlations = correlations[correlations["selection"] == "independent"]
    calibration = pd.concat([r.calibration for r in results], ignore_index=True)
    fast, pooled = fast_mode_for_replicates(strong_config, calibration, 10_000)
    comparison = compare_with_fast_mode(correlations, fast)
    assert comparison["within_tolerance"].all(), comparison[~comparison["within_tolerance"]]

    # The check has teeth: a fast mode that measures the ROIs perfectly fails it.
    study = StudyConfig.from_dict(replicate_config(strong_config, 0))
    rois = list(study.analysis.rois)
    scores = list(study.analysis.scores)
    r = simulate_correlations(
        study.signal.for_rois(rois),
        study.behaviour,
        scores,
        study.n_subjects,
        10_000,
        power_rng(1, 2, 3),
        MeasurementModel.perfect(rois),
    )
    naive = {(roi, s): r[:, i, j] for i, roi in enumerate(rois) for j, s in enumerate(scores)}
    assert not compare_with_fast_mode(correlations, naive)["within_tolerance"].all()

    # The calibrated error SD is the scatter of the estimates around the truth.
    # Pooled over 20 x 16 = 320 subjects, a residual SD has relative SE
    # 1 / sqrt(2 * 318) = 0.04; tolerance 4 SE, plus 0.04 for the spread of
    # the subjects' HRFs, which adds scatter the model leaves out.
    amplitudes = pd.concat([r.amplitudes for r in results], ignore_index=True)
    model = pooled.set_index("roi")
    for roi, group in amplitudes.groupby("roi"):
        slope, intercept = np.polyfit(group["true"], group["estimate"], 1)
        residual = group["estimate"] - (slope * group["true"] + intercept)
        observed = residual.std(ddof=2)
        assert observed == pytest.approx(model.loc[roi, "error_sd_psc"], rel=0.2), roi


@pytest.mark.slow
@pytest.mark.replicates
def test_fwe_map_family_wise_error_is_at_most_alpha(default_config):
    """With no needle-minus-swab effect at all, few FWE maps have any active voxel.

    40 complete null studies of 8 people (100 sign-flip permutations each,
    alpha 0.05). If the family-wise error rate were alpha, the number of
    studies with any FWE voxel is Binomial(40, 0.05) (mean 2); the test fails
    only if the count is implausibly high, P(X >= count) < 0.01, i.e. 7 or more.
    """
    config = _coarse(default_config, n_subjects=8)
    results = run_replicates(config, 40, null=True, n_jobs=N_JOBS)
    summaries = pd.DataFrame([r.summary for r in results])
    assert (summaries["kind"] == "null").all()
    row = family_wise_error(summaries, 0.05).iloc[0]
    assert row["n_studies"] == 40
    assert row["p_above_alpha"] >= 0.01, row
