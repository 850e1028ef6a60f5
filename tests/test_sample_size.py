"""Precision of a correlation by sample size: Fisher interval and significance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from empathy_fmri.evaluation.sample_size import (
    correlation_interval,
    significance_and_interval,
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


def test_significance_is_the_t_test_of_r_and_the_interval_is_fisher():
    r = np.array([0.0, 0.3, 0.46, 0.47, -0.6])
    significant, intervals = significance_and_interval({19: r}, 0.3)
    # critical |r| at N = 19, alpha 0.05: t(17) = 2.110, r = t / sqrt(t^2 + 17) = 0.4555
    assert significant[19].tolist() == [False, False, True, True, True]
    low, high = correlation_interval(0.3, 19)
    assert intervals[19] == (pytest.approx(float(low)), pytest.approx(float(high)))
