"""Process-dissociation model of the moral dilemma task."""

from __future__ import annotations

import numpy as np
import pytest

from empathy_fmri.simulation.behaviour import latent_to_probability, simulate_responses
from empathy_fmri.task.process_dissociation import estimate_process_dissociation


def test_estimator_inverts_the_model():
    d_true, u_true = np.array([0.6, 0.2]), np.array([0.3, 0.5])
    p_congruent = u_true + (1 - u_true) * d_true
    p_incongruent = (1 - u_true) * d_true
    n = 1000
    estimates = estimate_process_dissociation(p_congruent * n, p_incongruent * n, n, n)
    assert estimates["U"].to_numpy() == pytest.approx(u_true)
    assert estimates["D"].to_numpy() == pytest.approx(d_true)
    assert estimates["willingness_to_harm"].to_numpy() == pytest.approx(1 - p_incongruent)


def test_division_by_zero_is_corrected_not_dropped():
    estimates = estimate_process_dissociation(np.array([10]), np.array([0]), 10, 10)
    assert bool(estimates["pd_edge_case"].iloc[0])
    # corrected proportions 0.95 and 0.05: U = 0.9, D = 0.05 / 0.1 = 0.5
    assert estimates["U"].iloc[0] == pytest.approx(0.9)
    assert estimates["D"].iloc[0] == pytest.approx(0.5)
    assert np.isfinite(estimates.to_numpy(float)).all()


def test_counts_out_of_range_are_rejected():
    with pytest.raises(ValueError, match="congruent_rejected"):
        estimate_process_dissociation(np.array([11]), np.array([0]), 10, 10)


def test_simulated_estimates_are_unbiased_for_u():
    rng = np.random.default_rng(0)
    n_people = 20000
    d_true = np.full(n_people, 0.5)
    u_true = np.full(n_people, 0.3)
    congruent, incongruent = simulate_responses(rng, d_true, u_true, 10, 10)
    estimates = estimate_process_dissociation(congruent, incongruent, 10, 10)
    # U = p_c - p_i is unbiased; its SD per person is about 0.2, so the mean of
    # 20000 has SE 0.0015 (the rare U = 1 correction shifts it negligibly).
    assert estimates["U"].mean() == pytest.approx(0.3, abs=0.01)


def test_latent_link_keeps_probabilities_in_range():
    trait = np.linspace(-5, 5, 101)
    values = latent_to_probability(0.55, 2.0, 0.6, trait, np.zeros_like(trait))
    assert np.all((values > 0) & (values < 1))
    assert np.all(np.diff(values) > 0)
    with pytest.raises(ValueError, match="mean"):
        latent_to_probability(1.2, 1.0, 0.0, trait, trait)
