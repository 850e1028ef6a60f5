"""Precision of a correlation by sample size: Fisher interval and sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from empathy_fmri.evaluation.sample_size import (
    correlation_interval,
    sample_size_summary,
    simulate_correlations,
)


def test_interval_matches_scipy_pearsonr():
    rng = np.random.default_rng(0)
    x = rng.normal(size=19)
    y = 0.4 * x + rng.normal(size=19)
    test = stats.pearsonr(x, y)
    expected = test.confidence_interval(0.95)
    low, high = correlation_interval(test.statistic, 19)
    assert low == pytest.approx(expected.low)
    assert high == pytest.approx(expected.high)


def test_interval_narrows_with_n():
    low, high = correlation_interval(0.3, np.array([19, 100]))
    width = high - low
    assert width[1] < width[0]
    # Fisher z: the width on the z scale shrinks as 1 / sqrt(n - 3)
    z_width = np.arctanh(high) - np.arctanh(low)
    assert z_width[0] / z_width[1] == pytest.approx(np.sqrt(97 / 16))
    with pytest.raises(ValueError, match="n must"):
        correlation_interval(0.3, 3)


def test_simulated_r_has_the_textbook_spread():
    """SD of r is about (1 - rho^2) / sqrt(n - 1); 4000 studies give ~1.1% SE on an SD."""
    rng = np.random.default_rng(1)
    r = simulate_correlations(0.5, 100, 4000, rng)
    assert r.mean() == pytest.approx(0.5, abs=0.01)
    assert r.std(ddof=1) == pytest.approx((1 - 0.25) / np.sqrt(99), rel=0.06)


def test_null_power_is_nominal():
    """With rho = 0 the share of p < 0.05 is 0.05; 4 Monte Carlo SEs (0.0034 each)."""
    rng = np.random.default_rng(2)
    table = sample_size_summary(0.0, (19, 100), 4000, rng)
    assert list(table["n"]) == [19, 100]
    assert np.all(np.abs(table["power"] - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 4000))


def test_small_significant_studies_overestimate():
    rng = np.random.default_rng(3)
    table = sample_size_summary(0.2, (19, 500), 4000, rng).set_index("n")
    assert table.loc[19, "mean_r_significant"] > 2 * 0.2  # winner's curse
    assert table.loc[500, "mean_r_significant"] == pytest.approx(0.2, abs=0.03)
    assert table.loc[500, "power"] > table.loc[19, "power"]
