"""Brain-behaviour statistics against scipy and against their nominal error rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from empathy_fmri.analysis.brain_behaviour import brain_behaviour_table, correlate, holm


def test_correlate_agrees_with_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    result = correlate(x, y, n_permutations=999, n_bootstrap=999, rng=rng)
    reference = stats.pearsonr(x, y)
    assert result["r"] == pytest.approx(reference.statistic)
    assert result["ci_low"] == pytest.approx(reference.confidence_interval().low)
    assert result["spearman_rho"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert result["bootstrap_ci_low"] < result["r"] < result["bootstrap_ci_high"]
    # A permutation p from 999 resamples has a floor of 1/1000.
    assert 1 / 1000 <= result["p"] <= 0.01


def test_correlate_drops_missing_pairs_and_handles_constants():
    rng = np.random.default_rng(2)
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    y = np.array([2.0, 1.0, 3.0, np.nan, 5.0, 7.0])
    assert correlate(x, y, n_permutations=99, n_bootstrap=99, rng=rng)["n"] == 4
    constant = correlate(np.ones(10), np.arange(10.0), n_permutations=99, n_bootstrap=99, rng=rng)
    assert np.isnan(constant["r"])


def test_holm_matches_definition():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    adjusted = holm(p)
    # sorted: 0.005*4, 0.01*3, 0.03*2, 0.04*1 -> 0.02, 0.03, 0.06, 0.06 (monotone)
    assert adjusted[4] == pytest.approx(0.02)
    assert adjusted[0] == pytest.approx(0.03)
    assert adjusted[2] == pytest.approx(0.06)
    assert adjusted[1] == pytest.approx(0.06)
    assert np.isnan(adjusted[3])
    assert np.all(holm([0.5, 0.9]) <= 1)


def test_table_has_one_row_per_roi_selection_score():
    rng = np.random.default_rng(3)
    subjects = [f"sub-{i:02d}" for i in range(1, 13)]
    rows = [
        {"participant_id": s, "roi": roi, "selection": sel, "needle_minus_swab": rng.normal()}
        for s in subjects
        for roi in ("A", "B")
        for sel in ("independent", "group_peak")
    ]
    phenotype = pd.DataFrame(
        {"D": rng.random(12), "U": rng.random(12), "willingness_to_harm": rng.random(12)},
        index=pd.Index(subjects, name="participant_id"),
    )
    table = brain_behaviour_table(
        pd.DataFrame(rows), phenotype, ["D", "U"], n_permutations=99, n_bootstrap=99, seed=0
    )
    assert len(table) == 2 * 2 * 2
    assert (table["p_corrected"] >= table["p"]).all()
    with pytest.raises(ValueError, match="selection"):
        brain_behaviour_table(pd.DataFrame(rows).drop(columns="selection"), phenotype, ["D"])


def test_roi_chosen_on_a_score_is_correlated_with_that_score_only():
    rng = np.random.default_rng(4)
    subjects = [f"sub-{i:02d}" for i in range(1, 11)]
    rows = [
        {
            "participant_id": s,
            "roi": "A",
            "selection": sel,
            "score": score,
            "needle_minus_swab": rng.normal(),
        }
        for s in subjects
        for sel, score in (
            ("independent", "all"),
            ("behaviour_peak", "D"),
            ("behaviour_peak", "U"),
            ("cross_validated", "U"),
        )
    ]
    roi_table = pd.DataFrame(rows)
    phenotype = pd.DataFrame(
        {"D": rng.random(10), "U": rng.random(10)}, index=pd.Index(subjects, name="participant_id")
    )
    table = brain_behaviour_table(
        roi_table, phenotype, ["D", "U"], n_permutations=99, n_bootstrap=99, seed=0
    )
    pairs = sorted(zip(table["selection"], table["score"], strict=True))
    assert pairs == [
        ("behaviour_peak", "D"),
        ("behaviour_peak", "U"),
        ("cross_validated", "U"),
        ("independent", "D"),
        ("independent", "U"),
    ]
    chosen = roi_table[(roi_table["selection"] == "behaviour_peak") & (roi_table["score"] == "U")]
    expected = stats.pearsonr(chosen["needle_minus_swab"], phenotype.loc[subjects, "U"])
    row = table[(table["selection"] == "behaviour_peak") & (table["score"] == "U")].iloc[0]
    assert row["r"] == pytest.approx(expected.statistic)
    # Holm within a selection: the behaviour_peak family has two tests
    family = table[table["selection"] == "behaviour_peak"]
    smallest = family.loc[family["p"].idxmin()]
    assert smallest["p_corrected"] == pytest.approx(min(1.0, 2 * smallest["p"]))


@pytest.mark.slow
def test_permutation_p_is_calibrated_under_the_null():
    """With no coupling, p < 0.05 in 5% of studies, within Monte Carlo error.

    Summary-level studies: 19 participants, independent normal ROI values and
    willingness-to-harm scores from the dilemma model (discrete, as in the
    data). 1000 studies give a rejection rate with SD sqrt(.05 * .95 / 1000)
    = 0.0069; we allow 3 SD (0.021). The two-sided permutation p of 999
    resamples is twice the smaller one-sided p, in steps of 2/1000, so its
    exact rejection rate is 2 * 24/1000 = 0.048, inside that band (with 199
    resamples it would be 0.04: use enough resamples).
    """
    rng = np.random.default_rng(20170419)
    n_studies, n_subjects = 1000, 19
    rejections = 0
    for _ in range(n_studies):
        brain = rng.normal(size=n_subjects)
        willingness = rng.binomial(10, 0.4, size=n_subjects) / 10
        result = correlate(brain, willingness, n_permutations=999, n_bootstrap=99, rng=rng)
        rejections += result["p"] < 0.05
    rate = rejections / n_studies
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n_studies)
