"""Solve for the hidden noise parameters that give the data the configured statistics.

The config states what a lab would measure on its data, on the noise left
after the usual 1/128 Hz cosine high-pass and regression of the six
realignment parameters: the median grey-matter tSNR (baseline over residual
SD), the mean grey-matter lag-one autocorrelation and the spatial smoothness
(FWHM) that the Forman et al. (1995) estimator reads from the standardised
residuals over the brain. The simulated noise is a mixture of components
with different structure:

- thermal noise: white in space and in time (it is independent from sample
  to sample; Krueger & Glover 2001);
- system noise: smooth in space, AR(1) in time;
- physiological noise: cardiac and respiratory waves with smooth phase maps,
  and the slow fluctuations that breathing depth and heart rate cause, half
  of them one time course in every voxel, half smooth over space
  (:mod:`~empathy_fmri.simulation.physiology`);
- drift: power-law, half of it one time course in every voxel, half smooth
  over space (:mod:`~empathy_fmri.simulation.drift`); the part below the
  high-pass does not count towards the statistics.

Physiological noise and drift are set by their own amplitudes, and thermal
noise by its share of all the noise; their
expected variance and lag-one covariance after the nuisance regression come
from a fixed set of reference draws of their waveforms (the rates, phases and
spectra vary between runs) and the per-voxel gains. So each run's noise
varies around the configured statistics, as real runs do, and the
configuration states the typical values. The system noise then gets the
variance, the AR(1) coefficient and the smoothing kernel that make the
*mixture* match the config, as those three estimators
compute it: the variance by root-finding (Brent) on the median tSNR, the AR(1)
coefficient and the kernel in closed form (both statistics are linear in
them). So every
component can be on and the measured tSNR, AR(1) and FWHM still come out as
configured, while the noise is not AR(1) (its spectrum has 1/f and aliased
physiological power) and not a stationary Gaussian field (part of it is global).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import linalg, optimize, stats

from empathy_fmri.simulation.drift import GLOBAL_SHARE, cosine_basis, power_law_series
from empathy_fmri.simulation.noise import kernel_sigma_for_correlation
from empathy_fmri.simulation.physiology import (
    CARDIAC_HZ,
    RESPIRATORY_HZ,
    SLOW_GLOBAL_SHARE,
    physiological_waveforms,
)

__all__ = [
    "REFERENCE_HIGH_PASS_HZ",
    "NoiseBudgetError",
    "NoiseGeometry",
    "NoiseMixture",
    "high_pass_basis",
    "nuisance_basis",
    "solve_mixture",
]

#: The high-pass cut-off (Hz) at which the config's noise statistics are quoted.
REFERENCE_HIGH_PASS_HZ = 1.0 / 128.0
_MAX_RHO = 0.95
#: Reference draws of the physiological waveforms and drift whose mean
#: moments stand for their expectation. The heart and breathing rates of the
#: draws are stratified (evenly spaced quantiles, paired at random), because
#: the lag-one covariance of an aliased wave, cos(2 pi f TR), swings between
#: -1 and 1 with the rate: 64 independent draws would leave an error of about
#: 0.02 in the autocorrelation.
_REFERENCE_DRAWS = 64
#: The structured components, whose amplitudes the config sets directly.
STRUCTURED = (
    "physiological",
    "slow_physiological_global",
    "slow_physiological_local",
    "drift_global",
    "drift_local",
)


class NoiseBudgetError(ValueError):
    """The configured noise statistics cannot be reached with these components."""


@dataclass(frozen=True)
class NoiseGeometry:
    """Per-voxel amplitudes of the noise components, which shape the statistics.

    Attributes
    ----------
    baseline : numpy.ndarray
        Baseline intensity of each brain voxel (drift scales with it).
    physio_gain : numpy.ndarray
        Relative physiological amplitude of each brain voxel (RMS one in grey matter).
    grey : numpy.ndarray
        Boolean vector of the grey-matter voxels (tSNR and AR(1) are quoted there).
    neighbours : tuple of numpy.ndarray
        Index pairs ``(i, j)`` of face-adjacent brain voxels (all three axes),
        as the FWHM estimator uses them.
    voxel_size_mm : float
        Voxel size (mm).
    """

    baseline: np.ndarray
    physio_gain: np.ndarray
    grey: np.ndarray
    neighbours: tuple[np.ndarray, np.ndarray]
    voxel_size_mm: float

    @classmethod
    def from_mask(
        cls,
        mask: np.ndarray,
        baseline: np.ndarray,
        physio_gain: np.ndarray,
        grey: np.ndarray,
        voxel_size_mm: float,
    ) -> NoiseGeometry:
        """Build the geometry of a brain mask and its voxels' amplitudes."""
        index = np.full(mask.shape, -1, dtype=np.int64)
        index[mask] = np.arange(int(mask.sum()))
        first, second = [], []
        for axis in range(3):
            lower = np.take(index, range(mask.shape[axis] - 1), axis=axis)
            upper = np.take(index, range(1, mask.shape[axis]), axis=axis)
            both = (lower >= 0) & (upper >= 0)
            first.append(lower[both])
            second.append(upper[both])
        return cls(
            np.asarray(baseline, float),
            np.asarray(physio_gain, float),
            np.asarray(grey, bool),
            (np.concatenate(first), np.concatenate(second)),
            float(voxel_size_mm),
        )


@dataclass(frozen=True)
class NoiseMixture:
    """The solved parameters of one run's noise.

    Attributes
    ----------
    gaussian_sd : float
        SD of the thermal plus system noise (intensity units), before the
        high-pass.
    gaussian_rho : float
        AR(1) coefficient of the system noise (thermal noise is white in time).
    thermal_weight : float
        Share of that variance, before the high-pass, that is thermal. The
        config's ``thermal_share`` is thermal noise's share of *all* the noise
        after the high-pass (what a lab measures as (tSNR / image SNR)^2);
        the high-pass removes more of the autocorrelated system noise than of
        the white thermal noise, so this weight is smaller than the share of
        thermal noise in the thermal plus system noise after it.
    sigma_voxels : float
        Gaussian kernel SD (voxels) of every spatially smooth component.
    variances : dict of str to float
        Each component's mean variance over grey matter after the nuisance
        regression (intensity units squared): ``thermal``, ``system``,
        ``physiological`` (cardiac and respiratory waves),
        ``slow_physiological_global`` and ``slow_physiological_local``
        (breathing depth and heart rate),
        ``drift_global``, ``drift_local``.
    """

    gaussian_sd: float
    gaussian_rho: float
    sigma_voxels: float
    variances: dict[str, float]
    thermal_weight: float


def high_pass_basis(
    n_scans: int, tr_s: float, cutoff_hz: float = REFERENCE_HIGH_PASS_HZ
) -> np.ndarray:
    """Orthonormal columns a cosine high-pass removes: the slow cosines and the mean.

    The same space as nilearn's ``cosine`` drift model at this cut-off.
    """
    order = int(np.floor(2 * n_scans * tr_s * cutoff_hz))
    constant = np.full((n_scans, 1), 1.0 / np.sqrt(n_scans))
    return np.hstack([cosine_basis(n_scans)[:, :order], constant])


def nuisance_basis(n_scans: int, tr_s: float, motion: np.ndarray | None) -> np.ndarray:
    """Orthonormal basis of the high-pass and the realignment parameters.

    Parameters
    ----------
    n_scans : int
        Volumes.
    tr_s : float
        Repetition time (s).
    motion : numpy.ndarray or None
        ``(n_scans, 6)`` realignment estimates (the confounds file's columns).

    Returns
    -------
    numpy.ndarray
        ``(n_scans, k)`` orthonormal columns.
    """
    basis = high_pass_basis(n_scans, tr_s)
    if motion is None:
        return basis
    columns = np.hstack([basis, motion - motion.mean(axis=0)])
    u, singular, _ = np.linalg.svd(columns, full_matrices=False)
    return u[:, singular > singular[0] * 1e-10]


@lru_cache(maxsize=8)
def _reference_draws(n_scans: int, tr_s: float, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Fixed draws of physiology ``(draws, n_scans, 10)`` and drift ``(draws, n_scans, 2)``.

    The physiology's columns are the eight cardiac and respiratory waves, then
    the two slow regressors.
    """
    rng = np.random.default_rng(20170419)
    frame_times = tr_s * np.arange(n_scans)
    quantiles = stats.norm.ppf((np.arange(_REFERENCE_DRAWS) + 0.5) / _REFERENCE_DRAWS)
    cardiac = np.clip(CARDIAC_HZ[0] + CARDIAC_HZ[1] * quantiles, 0.8, 1.6)
    respiratory = np.clip(
        RESPIRATORY_HZ[0] + RESPIRATORY_HZ[1] * rng.permutation(quantiles), 0.18, 0.4
    )
    waveforms = [
        physiological_waveforms(rng, frame_times, c, r)
        for c, r in zip(cardiac, respiratory, strict=True)
    ]
    physio = np.stack([np.hstack([w.regressors, w.slow_regressors]) for w in waveforms])
    drift = np.stack([power_law_series(rng, n_scans, exponent, 2) for _ in range(_REFERENCE_DRAWS)])
    return physio, drift


def _moments(series: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance and lag-one covariance (per scan) of each column's residuals.

    ``series`` is ``(draws, n_scans, k)``; the moments are averaged over draws.
    """
    residual = series - basis @ np.einsum("nk,dnc->dkc", basis, series)
    n = series.shape[1]
    variance = np.sum(residual**2, axis=(0, 1)) / (n * series.shape[0])
    lag_one = np.sum(residual[:, 1:] * residual[:, :-1], axis=(0, 1)) / (n * series.shape[0])
    return variance, lag_one


@lru_cache(maxsize=4)
def _field_weights(n_voxels: int, n_fields: int) -> np.ndarray:
    """Fixed squared unit-normal draws ``(n_voxels, n_fields)``: a field's value squared.

    Each smooth component is a waveform times a random field, so a voxel's
    share of it is the field's value squared (chi-square, one degree of
    freedom), not one. The statistics are means and medians over voxels of
    non-linear functions of these weights, so they are taken over draws.
    """
    return np.random.default_rng(1).standard_normal((n_voxels, n_fields)) ** 2


def _ar1_moments(rho: float, basis: np.ndarray) -> tuple[float, float]:
    """Expected variance and lag-one covariance (per scan) of high-passed unit AR(1).

    With ``P = I - Q Q'`` the high-pass and ``S`` the AR(1) covariance
    (``rho^|i-j|``), these are ``tr(P S P) / n`` and the sum of the first
    superdiagonal of ``P S P`` over ``n``, expanded so that only ``S Q``
    (``n x k``) is formed.
    """
    n = basis.shape[0]
    covariance = linalg.toeplitz(rho ** np.arange(n))
    a = covariance @ basis
    b = basis.T @ a
    variance = (n - np.sum(basis * a)) / n
    lag_one = (
        (n - 1) * rho
        - np.sum(basis[:-1] * a[1:])
        - np.sum(a[:-1] * basis[1:])
        + np.sum((basis[:-1] @ b) * basis[1:])
    ) / n
    return float(variance), float(lag_one)


def solve_mixture(
    *,
    tsnr: float,
    ar1_rho: float,
    fwhm_mm: float,
    thermal_share: float,
    geometry: NoiseGeometry,
    basis: np.ndarray,
    tr_s: float,
    physio_sd: float,
    slow_physio_sd: float,
    drift_fraction: float,
    drift_exponent: float,
) -> NoiseMixture:
    """Find the thermal plus system noise that makes the mixture match the config.

    Parameters
    ----------
    tsnr, ar1_rho, fwhm_mm, thermal_share : float
        The config's ``noise`` statistics (see the module docstring);
        ``thermal_share`` is thermal noise's share of the noise variance of a
        typical grey-matter voxel (``(median baseline / tsnr)^2``) after the
        nuisance regression.
    geometry : NoiseGeometry
        Per-voxel amplitudes and neighbours.
    basis : numpy.ndarray
        Orthonormal nuisance basis (:func:`nuisance_basis`) after which the
        statistics are quoted; its rows are the run's volumes.
    tr_s : float
        Repetition time (s).
    physio_sd : float
        Physiological noise amplitude in grey matter (intensity units); a
        voxel's physiological noise is ``physio_sd * physio_gain`` times the
        waveforms of :func:`~empathy_fmri.simulation.physiology.physiological_waveforms`
        weighted by unit-variance fields.
    slow_physio_sd : float
        Amplitude in grey matter (intensity units) of the slow physiological
        fluctuations, the waveforms' ``slow_regressors``, with the same gains:
        a share :data:`~empathy_fmri.simulation.physiology.SLOW_GLOBAL_SHARE`
        of their variance is their sum in every voxel, the rest each
        regressor times a unit-variance field.
    drift_fraction : float
        Drift SD as a fraction of each voxel's baseline (``drift_psc / 100``);
        the drift is two unit-variance series of
        :func:`~empathy_fmri.simulation.drift.power_law_series`, the global one
        and one that a smooth field modulates.
    drift_exponent : float
        Spectral exponent of the drift.

    Returns
    -------
    NoiseMixture

    Raises
    ------
    NoiseBudgetError
        If physiological noise and drift exceed the tSNR budget, or no AR(1)
        coefficient or kernel gives the configured autocorrelation or FWHM.
    """
    n_voxels = geometry.baseline.size
    physiological, drift = _reference_draws(basis.shape[0], float(tr_s), float(drift_exponent))
    n_physio = physiological.shape[2]
    weights = _field_weights(n_voxels, n_physio + 1)
    # per-voxel variance and lag-one covariance of each structured component
    variance = {name: np.zeros(n_voxels) for name in STRUCTURED}
    lag_one = np.zeros(n_voxels)
    waves, slow = slice(0, n_physio - 2), slice(n_physio - 2, n_physio)
    if physio_sd > 0:
        v, c = _moments(physiological[:, :, waves], basis)
        gain = (physio_sd * geometry.physio_gain) ** 2
        variance["physiological"] = gain * (weights[:, waves] @ v)
        lag_one += gain * (weights[:, waves] @ c)
    if slow_physio_sd > 0:
        gain = (slow_physio_sd * geometry.physio_gain) ** 2
        summed = physiological[:, :, slow].sum(axis=2, keepdims=True)
        v, c = _moments(summed, basis)
        variance["slow_physiological_global"] = SLOW_GLOBAL_SHARE * float(v[0]) * gain
        lag_one += SLOW_GLOBAL_SHARE * float(c[0]) * gain
        v, c = _moments(physiological[:, :, slow], basis)
        variance["slow_physiological_local"] = (
            (1 - SLOW_GLOBAL_SHARE) * gain * (weights[:, slow] @ v)
        )
        lag_one += (1 - SLOW_GLOBAL_SHARE) * gain * (weights[:, slow] @ c)
    if drift_fraction > 0:
        gain = (drift_fraction * geometry.baseline) ** 2
        for name, column, share, weight in (
            ("drift_global", drift[:, :, :1], GLOBAL_SHARE, 1.0),
            ("drift_local", drift[:, :, 1:], 1.0 - GLOBAL_SHARE, weights[:, n_physio]),
        ):
            v, c = _moments(column, basis)
            variance[name] = share * float(v[0]) * gain * weight
            lag_one += share * float(c[0]) * gain * weight
    structured = sum(variance.values())
    grey = geometry.grey
    gaussian = _solve_variance(tsnr, geometry.baseline[grey], structured[grey])
    total = gaussian + structured
    typical_share = float(np.median(structured[grey] / total[grey]))
    if gaussian <= 0 or typical_share > 0.95:
        raise NoiseBudgetError(
            f"physiological noise ('noise.physio_psc', 'noise.slow_physio_psc') and drift "
            f"above the 1/128 Hz high-pass ('noise.drift_psc') take "
            f"{min(typical_share, 1.0):.0%} of the grey-matter noise variance that "
            f"'noise.tsnr' = {tsnr} allows; at least 5% must be left for thermal and system "
            "noise. Lower 'noise.physio_psc', 'noise.slow_physio_psc' or 'noise.drift_psc', "
            "or lower 'noise.tsnr'"
        )
    if ar1_rho == 0 and (physio_sd > 0 or slow_physio_sd > 0 or drift_fraction > 0):
        raise NoiseBudgetError(
            "'noise.ar1_rho' = 0 asks for temporally white noise, but the drift "
            "('noise.drift_psc') and the physiological noise ('noise.physio_psc', "
            "'noise.slow_physio_psc') are autocorrelated; set them to 0 too, or give "
            "'noise.ar1_rho' above 0"
        )
    # thermal noise's share of the thermal plus system noise after the high-pass
    typical_total = float(np.median(geometry.baseline[grey]) / tsnr) ** 2
    white_share = thermal_share * typical_total / gaussian
    if white_share > 1.0 + 1e-9:
        raise NoiseBudgetError(
            f"'noise.thermal_share' = {thermal_share} of the noise cannot be thermal: the "
            f"physiological noise and drift already take {1 - gaussian / typical_total:.0%} "
            f"of it at 'noise.tsnr' = {tsnr}; lower 'noise.thermal_share', "
            "'noise.physio_psc', 'noise.slow_physio_psc' or 'noise.drift_psc'"
        )
    white_share = min(white_share, 1.0)
    gaussian_rho = 0.0
    if ar1_rho > 0:
        # mean over grey voxels of (gaussian * r + lag_one) / total = ar1_rho
        weight = np.mean(gaussian / total[grey])
        offset = np.mean(lag_one[grey] / total[grey])
        gaussian_rho = _solve_rho(
            (ar1_rho - offset) / weight, basis, ar1_rho, white_share, thermal_share
        )
    # pre-high-pass variances that leave shares white_share : 1 - white_share after it
    thermal = white_share * gaussian / _ar1_moments(0.0, basis)[0]
    system = (1.0 - white_share) * gaussian / _ar1_moments(gaussian_rho, basis)[0]
    gaussian_sd = float(np.sqrt(thermal + system))
    sigma = _solve_kernel(fwhm_mm, geometry, white_share, thermal_share, gaussian, variance)
    summary = {name: float(np.mean(values[grey])) for name, values in variance.items()}
    summary["thermal"] = white_share * gaussian
    summary["system"] = (1.0 - white_share) * gaussian
    return NoiseMixture(
        gaussian_sd, gaussian_rho, sigma, summary, float(thermal / (thermal + system))
    )


def _solve_variance(tsnr: float, baseline: np.ndarray, structured: np.ndarray) -> float:
    """Gaussian variance ``g`` with ``median(baseline / sqrt(g + structured)) = tsnr``."""

    def median_tsnr(g: float) -> float:
        return float(np.median(baseline / np.sqrt(g + structured)))

    high = float(np.median(baseline) / tsnr) ** 2
    if np.any(structured > 0) and median_tsnr(0.0) <= tsnr:
        return 0.0
    while median_tsnr(high) > tsnr:
        high *= 2.0
    return float(optimize.brentq(lambda g: median_tsnr(g) - tsnr, 0.0, high, xtol=1e-9 * high))


def _gaussian_ratio(rho: float, basis: np.ndarray, white_share: float) -> float:
    """Lag-one correlation after the high-pass of thermal plus system noise.

    A share ``white_share`` of the variance left after the high-pass is
    white (thermal), the rest AR(1) with coefficient ``rho`` (system), as
    :func:`~empathy_fmri.simulation.noise.gaussian_noise` draws them; each
    part contributes its own residual lag-one correlation in proportion.
    """
    white = _ar1_moments(0.0, basis)
    system = _ar1_moments(rho, basis)
    return float(white_share * white[1] / white[0] + (1.0 - white_share) * system[1] / system[0])


def _solve_rho(
    target_ratio: float,
    basis: np.ndarray,
    configured: float,
    white_share: float,
    thermal_share: float,
) -> float:
    """System-noise AR(1) coefficient giving the thermal plus system noise ``target_ratio``.

    ``target_ratio`` is the residual lag-one correlation the thermal plus
    system noise must have; its white thermal share ``white_share`` dilutes
    the system noise's (``thermal_share`` is the config's, for the message).
    """

    def ratio(rho: float) -> float:
        return _gaussian_ratio(rho, basis, white_share)

    low, high = 0.0, _MAX_RHO
    if ratio(low) > target_ratio:
        raise NoiseBudgetError(
            f"'noise.ar1_rho' = {configured} is lower than the lag-one autocorrelation that "
            "drift and physiological noise alone give the data; raise 'noise.ar1_rho' or "
            "lower 'noise.drift_psc' or 'noise.physio_psc'"
        )
    if ratio(high) < target_ratio:
        raise NoiseBudgetError(
            f"'noise.ar1_rho' = {configured} cannot be reached: the system noise would need "
            f"an AR(1) coefficient above {_MAX_RHO} (the 'noise.thermal_share' = "
            f"{thermal_share} of thermal noise is white, and the aliased cardiac and "
            "respiratory waves lower the lag one); lower 'noise.ar1_rho', "
            "'noise.thermal_share' or 'noise.physio_psc', or raise 'noise.slow_physio_psc'"
        )
    return float(optimize.brentq(lambda rho: ratio(rho) - target_ratio, low, high, xtol=1e-10))


def _solve_kernel(
    fwhm_mm: float,
    geometry: NoiseGeometry,
    white_share: float,
    thermal_share: float,
    gaussian: float,
    variance: dict[str, np.ndarray],
) -> float:
    """Kernel SD (voxels) that gives the mixture the configured Forman FWHM.

    The estimator reads the mean correlation of neighbouring standardised
    residuals; a component's contribution to the pair ``(i, j)`` is
    ``r_c sqrt(V_ci V_cj) / (sd_i sd_j)`` with ``r_c`` 0 (thermal), 1 (global
    drift) or the kernel's neighbour correlation ``r_s`` (every smooth
    component), so the mean is linear in ``r_s``. Neighbours share their
    fields' value (``r_s`` is high), so both voxels of a pair take the field
    weights of the first, scaled by their own gains. ``white_share`` is
    thermal noise's share of the thermal plus system variance,
    ``thermal_share`` the config's (for the message).
    """
    if fwhm_mm <= 0:
        return 0.0
    target = np.exp(-2.0 * np.log(2.0) / (fwhm_mm / geometry.voxel_size_mm) ** 2)
    i, j = geometry.neighbours
    baseline, physio_gain = geometry.baseline, geometry.physio_gain
    # component variances of voxel j with voxel i's field weights
    moved = {
        name: variance[name][i] * (physio_gain[j] / physio_gain[i]) ** 2
        for name in ("physiological", "slow_physiological_local")
    }
    moved["drift_local"] = variance["drift_local"][i] * (baseline[j] / baseline[i]) ** 2
    for name in ("drift_global", "slow_physiological_global"):
        moved[name] = variance[name][j]
    total_i = gaussian + sum(variance[name][i] for name in moved)
    total_j = gaussian + sum(moved.values())
    scale = np.sqrt(total_i * total_j)
    smooth = (1.0 - white_share) * gaussian + sum(
        np.sqrt(variance[name][i] * moved[name])
        for name in ("physiological", "slow_physiological_local", "drift_local")
    )
    coherent = sum(
        np.sqrt(variance[name][i] * moved[name])
        for name in ("drift_global", "slow_physiological_global")
    )
    slope = float(np.mean(smooth / scale))
    offset = float(np.mean(coherent / scale))
    needed = (target - offset) / slope if slope > 0 else np.inf
    if needed <= 0:
        raise NoiseBudgetError(
            f"'noise.fwhm_mm' = {fwhm_mm} is too small: the global parts of the drift "
            "('noise.drift_psc') and slow physiology ('noise.slow_physio_psc') alone make "
            "the noise smoother than that; raise 'noise.fwhm_mm' or lower "
            "'noise.drift_psc' or 'noise.slow_physio_psc'"
        )
    try:
        return kernel_sigma_for_correlation(needed)
    except ValueError:
        raise NoiseBudgetError(
            f"'noise.fwhm_mm' = {fwhm_mm} cannot be reached at 'anatomy.voxel_size_mm' = "
            f"{geometry.voxel_size_mm} with 'noise.thermal_share' = {thermal_share} of "
            "spatially white noise; lower 'noise.fwhm_mm' or 'noise.thermal_share'"
        ) from None
