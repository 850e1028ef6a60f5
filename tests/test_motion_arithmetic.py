"""The fast motion and AR(1) arithmetic equals the formulas it implements.

The simulator computes the image's change under motion as one matrix product
per slice, and its recursions as a loop over scans; here each is checked
against the formula written out directly (per voxel and scan, and scipy's
``lfilter``) on random inputs. Outputs are float32, so the tolerance is a few
float32 units of the largest value (float32 keeps 6e-8 of a value; 1e-6 of
the scale allows the rounding of sums of about ten terms).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg, signal

from empathy_fmri.simulation.motion import GREY_MATTER_T1_S, displaced_intensity, spin_history
from empathy_fmri.simulation.noise import power_law_autocorrelation, temporal_factor
from empathy_fmri.simulation.recursion import decaying_sum

N_SCANS, N_SLICES, N_VOXELS = 30, 5, 400


@pytest.fixture
def head():
    """Random voxel positions, slices, image derivatives and per-slice motion."""
    rng = np.random.default_rng(7)
    coordinates = rng.uniform(-70, 70, (N_VOXELS, 3))
    slices = rng.integers(0, N_SLICES, N_VOXELS)
    gradient = rng.normal(0, 50, (N_VOXELS, 3)).astype(np.float32)
    hessian = rng.normal(0, 20, (N_VOXELS, 3, 3))
    hessian = (0.5 * (hessian + hessian.transpose(0, 2, 1))).astype(np.float32)
    motion = np.concatenate(
        [rng.normal(0, 0.5, (N_SCANS, N_SLICES, 3)), rng.normal(0, 0.01, (N_SCANS, N_SLICES, 3))],
        axis=2,
    )
    return coordinates, slices, gradient, hessian, motion


def _displacement(parameters: np.ndarray, coordinates: np.ndarray) -> np.ndarray:
    """``t + w x r`` for every voxel, ``parameters`` ``(n_voxels, 6)``."""
    return parameters[:, :3] + np.cross(parameters[:, 3:], coordinates)


def test_displaced_intensity_is_the_second_order_expansion(head):
    coordinates, slices, gradient, hessian, motion = head
    fast = displaced_intensity(motion, gradient, hessian, coordinates, slices)
    expected = np.empty((N_SCANS, N_VOXELS))
    for scan in range(N_SCANS):
        d = _displacement(motion[scan, slices], coordinates)
        expected[scan] = -np.sum(gradient * d, axis=1) + 0.5 * np.einsum(
            "ni,nij,nj->n", d, hessian.astype(float), d
        )
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    # one position per volume: every voxel moves with the volume
    volume = motion[:, 0]
    fast = displaced_intensity(volume, gradient, hessian, coordinates)
    for scan in range(N_SCANS):
        d = _displacement(np.broadcast_to(volume[scan], (N_VOXELS, 6)), coordinates)
        expected[scan] = -np.sum(gradient * d, axis=1) + 0.5 * np.einsum(
            "ni,nij,nj->n", d, hessian.astype(float), d
        )
    np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


def test_spin_history_is_the_decaying_through_plane_step(head):
    coordinates, slices, _, _, motion = head
    baseline = np.random.default_rng(3).uniform(500, 1300, N_VOXELS).astype(np.float32)
    tr_s, psc_per_mm = 2.0, 1.5
    fast = spin_history(motion, coordinates, baseline, tr_s, psc_per_mm, slices)
    through_plane = np.stack(
        [_displacement(motion[scan, slices], coordinates)[:, 2] for scan in range(N_SCANS)]
    )
    steps = np.abs(np.diff(through_plane, axis=0, prepend=through_plane[:1]))
    history = signal.lfilter([1.0], [1.0, -np.exp(-tr_s / GREY_MATTER_T1_S)], steps, axis=0)
    expected = -psc_per_mm / 100 * history * baseline
    assert np.all(fast <= 0) and np.all(fast[0] == 0)
    np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("decay", [0.0, 0.3, 0.95])
def test_decaying_sum_is_a_first_order_recursive_filter(decay):
    values = np.random.default_rng(1).standard_normal((50, 20)).astype(np.float32)
    expected = signal.lfilter([1.0], [1.0, -decay], values.astype(float), axis=0)
    result = decaying_sum(values.copy(), decay)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("exponent", [0.0, 1.0, 3.0])
def test_temporal_factor_gives_the_power_law_covariance(exponent):
    """``L L'`` is the Toeplitz matrix of the autocorrelation, which the spectrum defines."""
    n_scans, tr_s, knee = 120, 2.0, 1 / 128
    correlation = power_law_autocorrelation(n_scans, tr_s, exponent, knee)
    factor = temporal_factor(n_scans, tr_s, exponent, knee).astype(float)
    assert np.allclose(np.triu(factor, 1), 0)
    np.testing.assert_allclose(factor @ factor.T, linalg.toeplitz(correlation), atol=1e-5)
    assert correlation[0] == 1
    if exponent == 0:
        np.testing.assert_array_equal(correlation[1:], 0)
    else:
        # a 1/f spectrum correlates neighbours, less at longer lags
        assert 0 < correlation[2] < correlation[1] < 1


def test_steeper_system_spectra_correlate_neighbours_more():
    """The solver's root-finding needs the lag one to rise with the exponent."""
    lag_ones = [
        power_law_autocorrelation(150, 2.0, exponent, 1 / 128)[1]
        for exponent in np.linspace(0, 5, 11)
    ]
    assert np.all(np.diff(lag_ones) > 0), lag_ones
