"""The population model: how the true regional amplitudes relate to each other and to the trait.

The simulator (one participant at a time, ``draw_subject``) and the fast Monte
Carlo (``region_amplitudes`` on arrays) must draw people from the same
population; both are checked against the model's closed-form correlations.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from empathy_fmri.config import SimulationConfig
from empathy_fmri.config.sections import SignalConfig
from empathy_fmri.simulation.population import draw_subject, region_amplitudes

N_PEOPLE = 4000


def _expected_correlation(signal: SignalConfig, first: str, second: str) -> float:
    """rho rho' + q sqrt((1 - rho^2)(1 - rho'^2)), the model's correlation of two regions."""
    a, b = signal.rois[first].trait_coupling, signal.rois[second].trait_coupling
    q = signal.shared_responsiveness
    return a * b + q * np.sqrt((1 - a**2) * (1 - b**2))


def _se(r: float, n: int) -> float:
    """Large-sample SE of a Pearson r, (1 - r^2) / sqrt(n)."""
    return (1 - r**2) / np.sqrt(n)


@pytest.fixture(scope="module")
def simulated_people(default_config):
    simulation = SimulationConfig.from_dict(default_config)
    people = [draw_subject(simulation, index, N_PEOPLE) for index in range(N_PEOPLE)]
    names = list(simulation.signal.rois)
    amplitudes = np.array([[p.needle_minus_swab_psc[name] for name in names] for p in people])
    trait = np.array([p.trait for p in people])
    return simulation.signal, names, amplitudes, trait


@pytest.mark.parametrize(
    ("first", "second"), [("AI_L", "AI_R"), ("AI_L", "IFG_L"), ("aMCC", "SII_R")]
)
def test_regions_share_responsiveness_in_the_simulator(simulated_people, first, second):
    """Regions correlate as the model says, well above what the trait alone gives
    (0.09 for AI_L and AI_R; 4 SE of r over 4000 people is about 0.04)."""
    signal, names, amplitudes, _ = simulated_people
    r = np.corrcoef(amplitudes[:, names.index(first)], amplitudes[:, names.index(second)])[0, 1]
    expected = _expected_correlation(signal, first, second)
    assert abs(r - expected) < 4 * _se(expected, N_PEOPLE), (r, expected)
    trait_only = signal.rois[first].trait_coupling * signal.rois[second].trait_coupling
    assert expected - trait_only > 8 * _se(expected, N_PEOPLE)


def test_each_region_keeps_its_trait_coupling_mean_and_sd(simulated_people):
    """The shared factor leaves each region's link to the trait (and so to
    behaviour), its mean and its SD as configured (4 SE each)."""
    signal, names, amplitudes, trait = simulated_people
    for k, name in enumerate(names):
        model = signal.rois[name]
        r = np.corrcoef(amplitudes[:, k], trait)[0, 1]
        assert abs(r - model.trait_coupling) < 4 * _se(model.trait_coupling, N_PEOPLE), name
        assert abs(amplitudes[:, k].mean() - model.mean_psc) < 4 * model.sd_psc / np.sqrt(N_PEOPLE)
        # SE of an SD is about sd / sqrt(2 n)
        assert abs(amplitudes[:, k].std() - model.sd_psc) < 4 * model.sd_psc / np.sqrt(2 * N_PEOPLE)


def test_fast_monte_carlo_draws_the_same_population(default_config):
    """``region_amplitudes`` on arrays, as the fast Monte Carlo draws people."""
    signal = SimulationConfig.from_dict(default_config).signal
    rng = np.random.default_rng(3)
    n = 20_000
    amplitudes = region_amplitudes(
        signal, rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((n, 9))
    )
    names = list(signal.rois)
    observed = np.corrcoef(amplitudes, rowvar=False)
    for i, first in enumerate(names):
        for j, second in enumerate(names[:i]):
            expected = _expected_correlation(signal, first, second)
            assert abs(observed[i, j] - expected) < 4 * _se(expected, n), (first, second)


def test_no_shared_responsiveness_leaves_only_the_trait(default_config):
    config = copy.deepcopy(default_config)
    config["signal"]["shared_responsiveness"] = 0.0
    signal = SimulationConfig.from_dict(config).signal
    rng = np.random.default_rng(4)
    n = 20_000
    amplitudes = region_amplitudes(
        signal, rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((n, 9))
    )
    names = list(signal.rois)
    r = np.corrcoef(amplitudes[:, names.index("SII_L")], amplitudes[:, names.index("SII_R")])[0, 1]
    assert abs(r) < 4 / np.sqrt(n)  # both are uncoupled from the trait


def test_region_amplitudes_check_the_draws_shape(default_config):
    signal = SimulationConfig.from_dict(default_config).signal
    with pytest.raises(ValueError, match="unique must have shape"):
        region_amplitudes(signal, np.zeros(3), np.zeros(3), np.zeros((3, 2)))
