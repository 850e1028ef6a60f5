"""Split-half reliability: ICC(3,1), its interval, Spearman-Brown, and the halves of the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_roi_glm import TRUE_NEEDLE_PSC, TRUE_SWAB_PSC, _runs

from empathy_fmri.analysis.reliability import (
    RELIABILITY_COLUMNS,
    icc_consistency,
    spearman_brown,
    split_half_reliability,
)
from empathy_fmri.analysis.roi_glm import (
    NO_SPLIT,
    OTHER_HALF_SUFFIX,
    fit_roi_glm,
    split_halves,
)
from empathy_fmri.evaluation.reliability import (
    RELIABILITY_RECOVERY_COLUMNS,
    reliability_recovery,
    squared_correlation_interval,
)

#: Shrout & Fleiss (1979), Table 2: 6 targets (rows) rated by 4 judges (columns).
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    dtype=float,
)


def _icc_by_hand(data: np.ndarray) -> float:
    """ICC(3,1) from the two-way ANOVA table, written out cell by cell."""
    n, k = data.shape
    grand = sum(sum(row) for row in data) / (n * k)
    row_means = [sum(row) / k for row in data]
    column_means = [sum(data[i][j] for i in range(n)) / n for j in range(k)]
    ss_rows = k * sum((m - grand) ** 2 for m in row_means)
    ss_error = sum(
        (data[i][j] - row_means[i] - column_means[j] + grand) ** 2
        for i in range(n)
        for j in range(k)
    )
    bms, ems = ss_rows / (n - 1), ss_error / ((n - 1) * (k - 1))
    return (bms - ems) / (bms + (k - 1) * ems)


def test_icc_of_the_shrout_fleiss_example():
    """The published ICC(3,1) of the 6 x 4 example is 0.71 (BMS 11.24, EMS 1.02).

    Two of its judges (1 and 3), computed again by the ANOVA definition by hand.
    """
    result = icc_consistency(SHROUT_FLEISS)
    assert round(result.icc, 2) == 0.71
    assert result.f_value == pytest.approx(11.24 / 1.02, rel=5e-3)  # the paper's mean squares
    assert (result.df1, result.df2, result.n_subjects, result.n_measurements) == (5, 15, 6, 4)
    assert result.ci_low < result.icc < result.ci_high
    two = SHROUT_FLEISS[:, [0, 2]]
    assert icc_consistency(two).icc == pytest.approx(_icc_by_hand(two), abs=1e-12)
    # ICC(3,1) ignores a judge's constant offset (consistency, not absolute agreement)
    shifted = two + np.array([0.0, 5.0])
    assert icc_consistency(shifted).icc == pytest.approx(icc_consistency(two).icc, abs=1e-12)


def test_icc_interval_is_mcgraw_wong_f_interval():
    """The bounds of the 6 x 4 example from the F quantiles, written out (Case 3, ICC(C,1))."""
    from scipy import stats

    result = icc_consistency(SHROUT_FLEISS)
    f = result.f_value
    f_low = f / stats.f.ppf(0.975, 5, 15)
    f_high = f * stats.f.ppf(0.975, 15, 5)
    assert result.ci_low == pytest.approx((f_low - 1) / (f_low + 3))
    assert result.ci_high == pytest.approx((f_high - 1) / (f_high + 3))


def _two_way(rng: np.random.Generator, n: int, icc: float, k: int = 2) -> np.ndarray:
    """True scores (variance icc) + a fixed shift per column + errors (variance 1 - icc)."""
    subjects = np.sqrt(icc) * rng.standard_normal((n, 1))
    shifts = np.arange(k) * 0.7
    return subjects + shifts + np.sqrt(1 - icc) * rng.standard_normal((n, k))


def test_icc_recovers_a_known_icc():
    """n = 4000 subjects, two halves, true ICC 0.6.

    The estimator's large-sample SE for k = 2 is (1 - rho^2) / sqrt(n - 1)
    (Fisher's variance of an intraclass correlation, 2(1 - rho)^2 (1 + (k - 1)
    rho)^2 / (k (k - 1) (n - 1))): 0.0101 here; the estimate must lie within
    4 SE, and the interval's half-width must be close to 1.96 SE.
    """
    rho, n = 0.6, 4000
    result = icc_consistency(_two_way(np.random.default_rng(7), n, rho))
    se = (1 - rho**2) / np.sqrt(n - 1)
    assert abs(result.icc - rho) < 4 * se
    assert result.ci_low < rho < result.ci_high
    assert (result.ci_high - result.ci_low) / 2 == pytest.approx(1.96 * se, rel=0.1)


def test_icc_interval_covers_the_true_icc_95_percent_of_the_time():
    """2000 small studies (n = 12, k = 2, true ICC 0.5): coverage 0.95 within 4 binomial SE.

    The binomial SE of a coverage of 0.95 over 2000 studies is 0.0049.
    """
    rng = np.random.default_rng(11)
    covered = 0
    n_studies = 2000
    for _ in range(n_studies):
        result = icc_consistency(_two_way(rng, 12, 0.5))
        covered += result.ci_low <= 0.5 <= result.ci_high
    se = np.sqrt(0.95 * 0.05 / n_studies)
    assert abs(covered / n_studies - 0.95) < 4 * se


def test_icc_edge_cases_and_bad_input():
    exact = np.array([[1.0, 3.0], [2.0, 4.0], [5.0, 7.0]])  # halves agree up to a shift
    result = icc_consistency(exact)
    assert (result.icc, result.ci_low, result.ci_high) == (1.0, 1.0, 1.0)
    assert np.isnan(icc_consistency(np.ones((3, 2))).icc)
    with pytest.raises(ValueError, match="ratings must be 2-D"):
        icc_consistency([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="ratings needs at least 2 subjects"):
        icc_consistency([[1.0, 2.0]])
    with pytest.raises(ValueError, match="ratings has 1 value"):
        icc_consistency([[1.0, 2.0], [np.nan, 1.0], [3.0, 3.5]])
    with pytest.raises(ValueError, match="confidence must be in"):
        icc_consistency(SHROUT_FLEISS, confidence=95)


def test_spearman_brown():
    np.testing.assert_allclose(spearman_brown([0.5, 0.0, 1.0, -0.5]), [2 / 3, 0.0, 1.0, -2.0])
    assert spearman_brown(0.25, 3) == pytest.approx(0.5)
    assert np.isnan(spearman_brown(np.nan))
    assert spearman_brown(-1.0) == -np.inf
    # for two halves it is ICC(3,2), the reliability of their mean
    two = SHROUT_FLEISS[:, :2]
    icc = icc_consistency(two)
    assert spearman_brown(icc.icc) == pytest.approx(1 - 1 / icc.f_value)
    with pytest.raises(ValueError, match="reliability must be in"):
        spearman_brown(1.2)
    with pytest.raises(ValueError, match="factor must be at least 1"):
        spearman_brown(0.5, 0.5)


def _roi_table(rng: np.random.Generator, n: int = 20) -> pd.DataFrame:
    rows = []
    for selection, score in [("independent", "all"), ("behaviour_peak", "D")]:
        for roi in ("AI_L", "IFG_L"):
            true = rng.standard_normal(n)
            for s in range(n):
                rows.append(
                    {
                        "participant_id": f"sub-{s + 1:02d}",
                        "roi": roi,
                        "selection": selection,
                        "score": score,
                        "split": "run-1_vs_run-2",
                        "needle_minus_swab_half1": true[s] + 0.5 * rng.standard_normal(),
                        "needle_minus_swab_half2": true[s] + 0.5 * rng.standard_normal(),
                    }
                )
    return pd.DataFrame(rows)


def test_split_half_reliability_table():
    table = _roi_table(np.random.default_rng(2))
    table.loc[0, "needle_minus_swab_half2"] = np.nan  # a subject without a second half
    reliability = split_half_reliability(table)
    assert list(reliability.columns) == list(RELIABILITY_COLUMNS)
    assert list(zip(reliability["selection"], reliability["roi"], strict=True)) == [
        ("independent", "AI_L"),
        ("independent", "IFG_L"),
        ("behaviour_peak", "AI_L"),
        ("behaviour_peak", "IFG_L"),
    ]
    assert list(reliability["n_subjects"]) == [19, 20, 20, 20]
    assert set(reliability["split"]) == {"run-1_vs_run-2"}
    first = table[(table["roi"] == "AI_L") & (table["selection"] == "independent")].iloc[1:]
    expected = icc_consistency(first[["needle_minus_swab_half1", "needle_minus_swab_half2"]])
    assert reliability["icc"].iloc[0] == pytest.approx(expected.icc)
    assert (reliability["icc_ci_low"] < reliability["icc"]).all()
    assert (reliability["icc"] < reliability["icc_ci_high"]).all()
    np.testing.assert_allclose(
        reliability["spearman_brown"], 2 * reliability["icc"] / (1 + reliability["icc"])
    )
    np.testing.assert_allclose(
        reliability["sb_ci_low"], 2 * reliability["icc_ci_low"] / (1 + reliability["icc_ci_low"])
    )
    # too few subjects: an empty row, not an error
    few = split_half_reliability(table[table["participant_id"].isin(["sub-02", "sub-03"])])
    assert few["icc"].isna().all() and (few["n_subjects"] == 2).all()
    with pytest.raises(ValueError, match="roi_table lacks the column"):
        split_half_reliability(table.drop(columns="split"))


def _events(onsets_needle, onsets_swab, other=()) -> pd.DataFrame:
    rows = [(t, 16.0, "needle") for t in onsets_needle] + [(t, 16.0, "swab") for t in onsets_swab]
    rows += [(t, 2.0, name) for t, name in other]
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])


def test_split_halves_of_runs_and_of_blocks():
    one = _events([0.0, 60.0, 120.0], [30.0, 90.0, 150.0], other=[(200.0, "cue")])
    split, halves = split_halves([one, one, one])
    assert split == "odd_vs_even_runs"
    assert [h.runs for h in halves] == [(0, 2), (1,)]
    split, halves = split_halves([one, one])
    assert split == "run-1_vs_run-2" and [h.runs for h in halves] == [(0,), (1,)]
    split, halves = split_halves([one])
    assert split == "odd_vs_even_blocks"
    first, second = (h.events[0] for h in halves)
    # blocks 1 and 3 of each condition are the first half's, block 2 the second's
    assert list(first["trial_type"]) == [
        "needle",
        f"needle{OTHER_HALF_SUFFIX}",
        "needle",
        "swab",
        f"swab{OTHER_HALF_SUFFIX}",
        "swab",
        "cue",
    ]
    assert list(second["trial_type"]) == [
        f"needle{OTHER_HALF_SUFFIX}",
        "needle",
        f"needle{OTHER_HALF_SUFFIX}",
        f"swab{OTHER_HALF_SUFFIX}",
        "swab",
        f"swab{OTHER_HALF_SUFFIX}",
        "cue",
    ]
    assert list(one["trial_type"])[:3] == ["needle"] * 3  # the input is not changed
    assert split_halves([_events([0.0], [30.0, 90.0])]) == (NO_SPLIT, None)
    with pytest.raises(ValueError, match="reserved"):
        split_halves([_events([0.0, 60.0], [30.0, 90.0], other=[(5.0, "swab__other_half")])])


def test_halves_of_two_runs_are_the_runs_fitted_alone():
    images, events, masks = _runs(np.random.default_rng(4), noise_sd=10.0)
    masks = dict(list(masks.items())[:20])
    both = fit_roi_glm(images, events, None, 2.0, masks, halves=True)
    assert set(both["split"]) == {"run-1_vs_run-2"}
    for k in (0, 1):
        alone = fit_roi_glm([images[k]], [events[k]], None, 2.0, masks)
        np.testing.assert_allclose(both[f"effect_half{k + 1}"], alone["effect"], rtol=1e-6)
        np.testing.assert_allclose(both[f"variance_half{k + 1}"], alone["variance"], rtol=1e-6)
    np.testing.assert_array_equal(
        both[["effect", "variance"]],
        fit_roi_glm(images, events, None, 2.0, masks)[["effect", "variance"]],
    )


def test_halves_within_a_run_are_unbiased_with_honest_variances():
    """One run of 5 blocks per condition, 400 independent series: as for the whole fit.

    Each half's mean effect lies within 4 SE of the planted needle - swab (SE
    sqrt(mean variance / 400)), and the half's z of the errors has SD 1 within
    4 / sqrt(2 * 400); the halves' errors are independent (their correlation
    within 4 / sqrt(400) of 0), as the ICC assumes.
    """
    images, events, masks = _runs(np.random.default_rng(8), noise_sd=10.0, n_runs=1)
    table = fit_roi_glm(images, events, None, 2.0, masks, halves=True)
    assert set(table["split"]) == {"odd_vs_even_blocks"}
    truth = TRUE_NEEDLE_PSC - TRUE_SWAB_PSC
    n = len(table)
    for k in (1, 2):
        effect, variance = table[f"effect_half{k}"], table[f"variance_half{k}"]
        assert abs(effect.mean() - truth) < 4 * np.sqrt(variance.mean() / n)
        assert abs(((effect - truth) / np.sqrt(variance)).std(ddof=1) - 1) < 4 / np.sqrt(2 * n)
    # 3 blocks against 2: the first half is the more precise
    assert table["variance_half1"].mean() < table["variance_half2"].mean()
    r = np.corrcoef(table["effect_half1"], table["effect_half2"])[0, 1]
    assert abs(r) < 4 / np.sqrt(n)


def test_squared_correlation_interval():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(30)
    y = x + rng.standard_normal(30)
    r2, low, high = squared_correlation_interval(x, y)
    r = np.corrcoef(x, y)[0, 1]
    z, half = np.arctanh(r), 1.959964 / np.sqrt(27)
    assert r2 == pytest.approx(r**2)
    assert (low, high) == pytest.approx((np.tanh(z - half) ** 2, np.tanh(z + half) ** 2), rel=1e-5)
    # an interval of r that holds 0 starts at 0
    _, low, _ = squared_correlation_interval(x, rng.standard_normal(30) + 0.01 * x)
    assert low == 0.0
    assert np.isnan(squared_correlation_interval(x[:3], y[:3])[0])


def test_reliability_recovery_sets_the_truth_beside_the_split_half_estimate():
    """The table's columns, the model's reliability on independent rows, ROIs without a truth.

    The truth is each subject's mean of the halves plus noise, so that every
    ROI has a true reliability between 0 and 1 and a coverage flag.
    """
    rng = np.random.default_rng(5)
    table = _roi_table(rng, n=200)
    truth = pd.DataFrame({"participant_id": sorted(set(table["participant_id"]))})
    for (roi, selection), group in table.groupby(["roi", "selection"]):
        if selection == "independent":
            # the halves' mean estimates the truth up to the halves' own error
            halves = group[["needle_minus_swab_half1", "needle_minus_swab_half2"]].mean(axis=1)
            truth[f"true_{roi}"] = halves.to_numpy() + 0.25 * rng.standard_normal(len(group))
    table = table[table["selection"] == "independent"].copy()
    table["needle_minus_swab_roi_glm"] = table[
        ["needle_minus_swab_half1", "needle_minus_swab_half2"]
    ].mean(axis=1)
    reliability = split_half_reliability(table)
    graded = reliability_recovery(reliability, table, truth, {"AI_L": 0.9})
    assert list(graded.columns) == list(RELIABILITY_RECOVERY_COLUMNS)
    assert graded["model_reliability_full"].tolist()[0] == 0.9
    assert np.isnan(graded["model_reliability_full"].tolist()[1])
    assert graded["true_reliability_half"].between(0, 1).all()
    assert graded["icc_ci_covers_truth"].notna().all()
    # without a region of its name an ROI has no truth, and no coverage flag
    graded = reliability_recovery(reliability, table, truth.drop(columns="true_IFG_L"))
    row = graded[graded["roi"] == "IFG_L"].iloc[0]
    assert np.isnan(row["true_reliability_full"]) and pd.isna(row["sb_ci_covers_truth"])
    with pytest.raises(ValueError, match="roi_table lacks the column"):
        reliability_recovery(reliability, table.drop(columns="needle_minus_swab_roi_glm"), truth)
