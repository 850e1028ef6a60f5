"""Solve for the hidden noise parameters that give the data the configured statistics.

The config states what a lab would measure on its data, on the noise left
after the usual 1/128 Hz cosine high-pass and regression of the six
realignment parameters: the median grey-matter tSNR (baseline over residual
SD), the mean grey-matter lag-one autocorrelation, the spatial smoothness
(FWHM) that the Forman et al. (1995) estimator reads from the standardised
residuals over the brain, and each component's share of the noise variance
of a typical grey-matter voxel. The simulated noise is a mixture of
components with different structure:

- thermal noise: white in time (it is independent from sample to sample;
  Krueger & Glover 2001), and as smooth in space as the other components
  (reconstruction and resampling smooth it in the images a lab analyses);
  its share is ``(tSNR / image SNR)^2``;
- system noise: smooth in space, with a ``1/f^a`` spectrum in time above the
  high-pass (flat below it; :func:`~empathy_fmri.simulation.noise.power_law_autocorrelation`),
  as real BOLD noise (Zarahn, Aguirre & D'Esposito 1997; Bullmore et al.
  2001); it takes what the other shares leave;
- physiological noise: cardiac and respiratory waves with smooth phase maps,
  and the slow fluctuations that breathing depth and heart rate cause, half
  of them one time course in every voxel, half smooth over space
  (:mod:`~empathy_fmri.simulation.physiology`);
- drift: power-law, half of it one time course in every voxel, half smooth
  over space (:mod:`~empathy_fmri.simulation.drift`); its share counts only
  the part above the high-pass.

Each component's expected variance and lag-one covariance after the nuisance
regression come from its correlation matrix (thermal, system) or from a
fixed set of reference draws of its waveforms (physiology, drift: the rates,
phases and spectra vary between runs) and the per-voxel gains. The
structured components are scaled to their shares, the thermal plus system
variance is found by root-finding (Brent) on the median tSNR, the system
noise's spectral exponent by root-finding on the mean lag one (which rises
with it), and the smoothing kernel in closed form (the Forman statistic is
linear in the kernel's neighbour correlation). So each share is a knob of
its own: the shares need only leave some variance for the system noise,
and any lag one between what white and ``1/f^5`` system noise give is
reached. Each run's noise varies around the configured statistics, as real
runs do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import linalg, optimize, stats

from empathy_fmri.simulation.drift import GLOBAL_SHARE, cosine_basis, power_law_series
from empathy_fmri.simulation.noise import (
    MAX_SYSTEM_EXPONENT,
    kernel_sigma_for_correlation,
    power_law_autocorrelation,
)
from empathy_fmri.simulation.physiology import (
    CARDIAC_HZ,
    RESPIRATORY_HZ,
    SLOW_GLOBAL_SHARE,
    physiological_waveforms,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MIN_SYSTEM_SHARE",
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
#: Least share of a typical grey-matter voxel's noise variance that the
#: configured shares must leave for the system noise, whose spectrum is the
#: knob that reaches the configured lag one.
MIN_SYSTEM_SHARE = 0.05
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
        Boolean vector of the grey-matter voxels (tSNR and lag one are quoted there).
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
    system_exponent : float
        Spectral exponent of the system noise (0 white; thermal noise is
        always white in time).
    sigma_voxels : float
        Gaussian kernel SD (voxels) of every spatially smooth component.
    variances : dict of str to float
        Each component's mean variance over grey matter after the nuisance
        regression (intensity units squared): ``thermal``, ``system``,
        ``physiological`` (cardiac and respiratory waves),
        ``slow_physiological_global`` and ``slow_physiological_local``
        (breathing depth and heart rate),
        ``drift_global``, ``drift_local``.
    thermal_weight : float
        Share of the thermal plus system variance, before the high-pass, that
        is thermal. The config's ``thermal_share`` is thermal noise's share of
        *all* the noise after the high-pass (what a lab measures as
        (tSNR / image SNR)^2); the high-pass removes more of the
        autocorrelated system noise than of the white thermal noise.
    physio_sd : float
        Amplitude of the cardiac and respiratory waves in grey matter
        (intensity units), scaled to ``physio_share``.
    slow_physio_sd : float
        Amplitude of the slow physiological fluctuations (intensity units),
        scaled to ``slow_physio_share``.
    drift_fraction : float
        Drift SD as a fraction of each voxel's baseline, scaled to ``drift_share``.
    lag_one : float
        The grey-matter mean lag one this run's estimates are expected to
        read: ``ar1_rho``, or the nearest reachable value (``strict=False``).
    """

    gaussian_sd: float
    system_exponent: float
    sigma_voxels: float
    variances: dict[str, float]
    thermal_weight: float
    physio_sd: float
    slow_physio_sd: float
    drift_fraction: float
    lag_one: float


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


def _covariances(series: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Each column's residual covariance ``(k, n_scans, n_scans)``, scaled to trace ``n_scans``.

    ``series`` is ``(draws, n_scans, k)``; the covariance is the mean over draws
    of the residual's outer product, the component's second moments after the
    nuisance regression (what the lag-one estimator's bias depends on).
    """
    residual = series - basis @ np.einsum("nk,dnc->dkc", basis, series)
    covariance = np.einsum("dsc,dtc->cst", residual, residual) / series.shape[0]
    trace = np.trace(covariance, axis1=1, axis2=2)
    n = series.shape[1]
    return covariance * (n / np.where(trace > 0, trace, 1.0))[:, None, None]


@lru_cache(maxsize=4)
def _field_weights(n_voxels: int, n_fields: int) -> np.ndarray:
    """Fixed squared unit-normal draws ``(n_voxels, n_fields)``: a field's value squared.

    Each smooth component is a waveform times a random field, so a voxel's
    share of it is the field's value squared (chi-square, one degree of
    freedom), not one. The statistics are means and medians over voxels of
    non-linear functions of these weights, so they are taken over draws.
    """
    return np.random.default_rng(1).standard_normal((n_voxels, n_fields)) ** 2


def _correlation_moments(correlation: np.ndarray | None, basis: np.ndarray) -> tuple[float, float]:
    """Expected variance and lag-one covariance (per scan) of regressed unit noise.

    With ``P = I - Q Q'`` the nuisance regression and ``S`` the noise's
    correlation matrix (Toeplitz in ``correlation``; the identity for None,
    white noise), these are ``tr(P S P) / n`` and the sum of the first
    superdiagonal of ``P S P`` over ``n``, expanded so that only ``S Q``
    (``n x k``) is formed.
    """
    n = basis.shape[0]
    if correlation is None:
        a, lag = basis, 0.0
    else:
        a, lag = linalg.toeplitz(correlation) @ basis, (n - 1) * float(correlation[1])
    b = basis.T @ a
    variance = (n - np.sum(basis * a)) / n
    lag_one = (
        lag
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
    physio_share: float,
    slow_physio_share: float,
    drift_share: float,
    geometry: NoiseGeometry,
    basis: np.ndarray,
    tr_s: float,
    drift_exponent: float,
    strict: bool = True,
) -> NoiseMixture:
    """Find the amplitudes and the system noise that make the mixture match the config.

    Parameters
    ----------
    tsnr, ar1_rho, fwhm_mm : float
        The config's ``noise`` statistics (see the module docstring).
    thermal_share, physio_share, slow_physio_share, drift_share : float
        Each component's share of the noise variance of a typical grey-matter
        voxel (``(median baseline / tsnr)^2``) after the nuisance regression:
        thermal noise, the cardiac and respiratory waves, the slow
        physiological fluctuations and the drift. System noise takes the rest.
    geometry : NoiseGeometry
        Per-voxel amplitudes and neighbours.
    basis : numpy.ndarray
        Orthonormal nuisance basis (:func:`nuisance_basis`) after which the
        statistics are quoted; its rows are the run's volumes.
    tr_s : float
        Repetition time (s).
    drift_exponent : float
        Spectral exponent of the drift.
    strict : bool
        Raise if this run cannot reach ``ar1_rho``. A simulation passes False:
        the config check has tried representative runs before any job, and a
        run whose own realignment regressors leave the lag one just out of
        reach gets the nearest reachable exponent, with a warning and the lag
        one it reaches in ``NoiseMixture.lag_one``.

    Returns
    -------
    NoiseMixture

    Raises
    ------
    NoiseBudgetError
        If the shares leave less than :data:`MIN_SYSTEM_SHARE` for the system
        noise, or no spectral exponent or kernel gives the configured
        autocorrelation or FWHM (the message gives the reachable range).
    """
    shares = {
        "noise.thermal_share": thermal_share,
        "noise.physio_share": physio_share,
        "noise.slow_physio_share": slow_physio_share,
        "noise.drift_share": drift_share,
    }
    taken = sum(shares.values())
    if taken > 1.0 - MIN_SYSTEM_SHARE + 1e-12:
        named = " + ".join(f"'{key}' {value:g}" for key, value in shares.items() if value > 0)
        raise NoiseBudgetError(
            f"the noise shares add up to {taken:.3g} ({named}); at least "
            f"{MIN_SYSTEM_SHARE:g} of the noise variance must be left for the system noise, "
            "whose spectrum sets the lag-one autocorrelation; lower one of them"
        )
    n_voxels = geometry.baseline.size
    grey = geometry.grey
    typical_total = float(np.median(geometry.baseline[grey]) / tsnr) ** 2
    physiological, drift = _reference_draws(basis.shape[0], float(tr_s), float(drift_exponent))
    n_physio = physiological.shape[2]
    weights = _field_weights(n_voxels, n_physio + 1)
    # each structured component's parts: the residual covariance of a unit
    # waveform (trace n_scans) and each voxel's variance per scan from it, at
    # unit amplitude, then scaled to the component's share of a typical voxel
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []
    waves, slow = slice(0, n_physio - 2), slice(n_physio - 2, n_physio)
    gain = geometry.physio_gain**2
    for k, covariance in zip(
        range(n_physio - 2), _covariances(physiological[:, :, waves], basis), strict=True
    ):
        v = _moments(physiological[:, :, k : k + 1], basis)[0][0]
        parts.append(("physiological", covariance, gain * weights[:, k] * v))
    summed = physiological[:, :, slow].sum(axis=2, keepdims=True)
    v = _moments(summed, basis)[0][0]
    parts.append(
        ("slow_physiological_global", _covariances(summed, basis)[0], SLOW_GLOBAL_SHARE * v * gain)
    )
    local = (1 - SLOW_GLOBAL_SHARE) * gain
    for k, covariance in zip(
        range(n_physio - 2, n_physio), _covariances(physiological[:, :, slow], basis), strict=True
    ):
        v = _moments(physiological[:, :, k : k + 1], basis)[0][0]
        parts.append(("slow_physiological_local", covariance, local * weights[:, k] * v))
    gain = geometry.baseline**2
    for name, column, share, weight in (
        ("drift_global", drift[:, :, :1], GLOBAL_SHARE, 1.0),
        ("drift_local", drift[:, :, 1:], 1.0 - GLOBAL_SHARE, weights[:, n_physio]),
    ):
        v = _moments(column, basis)[0][0]
        parts.append((name, _covariances(column, basis)[0], share * v * gain * weight))
    amplitudes = {}
    for key, share, names in (
        ("physio_sd", physio_share, ("physiological",)),
        (
            "slow_physio_sd",
            slow_physio_share,
            ("slow_physiological_global", "slow_physiological_local"),
        ),
        ("drift_fraction", drift_share, ("drift_global", "drift_local")),
    ):
        unit = sum(float(np.mean(w[grey])) for name, _, w in parts if name in names)
        scale = share * typical_total / unit if unit > 0 else 0.0
        amplitudes[key] = float(np.sqrt(scale))
        parts = [(name, c, w * scale if name in names else w) for name, c, w in parts]
    variance = {name: np.zeros(n_voxels) for name in STRUCTURED}
    for name, _, w in parts:
        variance[name] = variance[name] + w
    structured = sum(variance.values())
    thermal = thermal_share * typical_total
    white = np.eye(basis.shape[0]) - basis @ basis.T
    white *= basis.shape[0] / np.trace(white)
    # A run's tSNR is read from its own residual SD, whose inverse is biased
    # up by (3/8) Var(Y) / E[Y]^2 (Y the sum of squares; a few percent at
    # most): the variance is solved once without, and once with that
    # inflation from the first solution, then the exponent again.
    inflation = np.ones(int(grey.sum()))
    for _ in range(2):
        gaussian = _solve_variance(tsnr, geometry.baseline[grey] * inflation, structured[grey])
        system = gaussian - thermal
        if system < 0.5 * MIN_SYSTEM_SHARE * typical_total:
            # the grey matter's spread of physiological gains and baselines can
            # leave less than the shares say; the message gives what is left
            raise NoiseBudgetError(
                f"at 'noise.tsnr' = {tsnr} the configured shares leave "
                f"{max(system, 0.0) / typical_total:.1%} of a typical grey-matter voxel's "
                "noise for the system noise; lower 'noise.thermal_share', "
                "'noise.physio_share', 'noise.slow_physio_share' or 'noise.drift_share'"
            )
        lag_one = _LagOneEstimate(
            [c for _, c, _ in parts] + [white],
            np.column_stack([w[grey] for _, _, w in parts] + [np.full(int(grey.sum()), thermal)]),
            system,
        )
        exponent, reached = _solve_exponent(
            ar1_rho=ar1_rho, basis=basis, tr_s=float(tr_s), lag_one=lag_one, strict=strict
        )
        relative = lag_one.relative_variance(_system_covariance(basis, float(tr_s), exponent))
        inflation = 1.0 + 0.375 * relative
    # pre-high-pass variances that leave thermal and system their shares after it
    thermal_before = thermal / _correlation_moments(None, basis)[0]
    system_correlation = _system_correlation(basis, tr_s, exponent)
    system_before = system / _correlation_moments(system_correlation, basis)[0]
    sigma = _solve_kernel(fwhm_mm, geometry, gaussian, variance, float(np.mean(relative)) / 2)
    summary = {name: float(np.mean(values[grey])) for name, values in variance.items()}
    summary["thermal"] = thermal
    summary["system"] = system
    return NoiseMixture(
        gaussian_sd=float(np.sqrt(thermal_before + system_before)),
        system_exponent=exponent,
        sigma_voxels=sigma,
        variances=summary,
        thermal_weight=float(thermal_before / (thermal_before + system_before)),
        physio_sd=amplitudes["physio_sd"],
        slow_physio_sd=amplitudes["slow_physio_sd"],
        drift_fraction=amplitudes["drift_fraction"],
        lag_one=reached,
    )


def _solve_variance(tsnr: float, baseline: np.ndarray, structured: np.ndarray) -> float:
    """Gaussian variance ``g`` with ``median(baseline / sqrt(g + structured)) = tsnr``."""

    def median_tsnr(g: float) -> float:
        return float(np.median(baseline / np.sqrt(g + structured)))

    high = float(np.median(baseline) / tsnr) ** 2
    if not np.any(structured > 0):
        return high
    if median_tsnr(0.0) <= tsnr:
        return 0.0
    while median_tsnr(high) > tsnr:
        high *= 2.0
    return float(optimize.brentq(lambda g: median_tsnr(g) - tsnr, 0.0, high, xtol=1e-9 * high))


def _system_correlation(basis: np.ndarray, tr_s: float, exponent: float) -> np.ndarray:
    """Autocorrelation of the system noise at this exponent (knee at the high-pass)."""
    return power_law_autocorrelation(basis.shape[0], tr_s, exponent, REFERENCE_HIGH_PASS_HZ)


class _LagOneEstimate:
    """Expected grey-matter mean of the voxels' lag-one estimates, as a function of the exponent.

    A lab estimates each voxel's lag one as ``X / Y`` with ``X = sum r_t r_{t+1}``
    and ``Y = sum r_t^2`` over its residuals ``r``, and averages over grey
    matter. With ``C`` the residual covariance (the components' weighted
    sum), ``E[X] = tr(A C)`` and ``E[Y] = tr(C)`` (``A`` the symmetric lag-one
    matrix), and the ratio's expectation to second order (Gaussian moments:
    ``Var Y = 2 tr(C^2)``, ``Cov(X, Y) = 2 tr(A C^2)``) is
    ``E[X]/E[Y] - Cov(X, Y)/E[Y]^2 + E[X] Var(Y)/E[Y]^3``. Without the last
    two terms a short run's estimates fall about (1 + 3 rho) / n below the
    target, as the sample autocorrelation's bias does.

    Parameters
    ----------
    covariances : list of numpy.ndarray
        Each fixed component's residual covariance (trace ``n_scans``).
    weights : numpy.ndarray
        ``(n_grey, n_fixed)`` each grey voxel's variance per scan from each.
    system : float
        The system noise's variance per scan (the same in every voxel).
    """

    def __init__(self, covariances: list[np.ndarray], weights: np.ndarray, system: float):
        self.covariances = np.stack(covariances)
        self.weights = np.column_stack([weights, np.full(weights.shape[0], system)])
        lagged = self._lagged(self.covariances)
        self.lag = np.array([np.trace(c, offset=1) for c in self.covariances])
        self.square = np.einsum("cst,dst->cd", self.covariances, self.covariances)
        self.lag_square = np.einsum("cst,dst->cd", lagged, self.covariances)

    @staticmethod
    def _lagged(covariance: np.ndarray) -> np.ndarray:
        """``A @ covariance`` for the symmetric lag-one matrix ``A`` (halves off the diagonal)."""
        lagged = np.zeros_like(covariance)
        lagged[..., :-1, :] += 0.5 * covariance[..., 1:, :]
        lagged[..., 1:, :] += 0.5 * covariance[..., :-1, :]
        return lagged

    def relative_variance(self, system_covariance: np.ndarray) -> np.ndarray:
        """``Var(Y) / E[Y]^2`` of each grey voxel's residual sum of squares."""
        w = self.weights
        covariances = np.concatenate([self.covariances, system_covariance[None]])
        square = np.einsum("cst,dst->cd", covariances, covariances)
        mean_y = system_covariance.shape[0] * w.sum(axis=1)
        return 2.0 * np.sum((w @ square) * w, axis=1) / mean_y**2

    def __call__(self, system_covariance: np.ndarray) -> float:
        """The expected mean estimate with this system-noise covariance (trace ``n_scans``)."""
        n_fixed = self.covariances.shape[0]
        square = np.empty((n_fixed + 1, n_fixed + 1))
        lag_square = np.empty_like(square)
        square[:n_fixed, :n_fixed] = self.square
        lag_square[:n_fixed, :n_fixed] = self.lag_square
        lagged = self._lagged(system_covariance)
        square[n_fixed, :n_fixed] = square[:n_fixed, n_fixed] = np.einsum(
            "cst,st->c", self.covariances, system_covariance
        )
        lag_square[n_fixed, :n_fixed] = lag_square[:n_fixed, n_fixed] = np.einsum(
            "st,cst->c", lagged, self.covariances
        )
        square[n_fixed, n_fixed] = np.sum(system_covariance**2)
        lag_square[n_fixed, n_fixed] = np.sum(lagged * system_covariance)
        lag = np.append(self.lag, np.trace(system_covariance, offset=1))
        w = self.weights
        mean_x = w @ lag
        mean_y = system_covariance.shape[0] * w.sum(axis=1)
        var_y = 2.0 * np.sum((w @ square) * w, axis=1)
        cov_xy = 2.0 * np.sum((w @ lag_square) * w, axis=1)
        ratio = mean_x / mean_y - cov_xy / mean_y**2 + mean_x * var_y / mean_y**3
        return float(np.mean(ratio))


def _system_covariance(basis: np.ndarray, tr_s: float, exponent: float) -> np.ndarray:
    """The system noise's residual covariance after the nuisance regression (trace ``n_scans``)."""
    n = basis.shape[0]
    toeplitz = linalg.toeplitz(_system_correlation(basis, tr_s, exponent))
    a = toeplitz @ basis
    covariance = toeplitz - a @ basis.T - basis @ a.T + basis @ (basis.T @ a) @ basis.T
    return covariance * (n / np.trace(covariance))


def _solve_exponent(
    *,
    ar1_rho: float,
    basis: np.ndarray,
    tr_s: float,
    lag_one: _LagOneEstimate,
    strict: bool = True,
) -> tuple[float, float]:
    """Spectral exponent of the system noise that gives the mixture lag one ``ar1_rho``.

    ``lag_one`` gives the expected grey-matter mean of the lag-one estimates
    for a system-noise covariance; it rises with the exponent up to a peak.
    Returns the exponent and the lag one it gives.
    """

    def expected(exponent: float) -> float:
        return lag_one(_system_covariance(basis, tr_s, exponent))

    # with the realignment regressors in the basis, very steep spectra put
    # their power where those slow regressors remove it, and the lag one falls
    # again past about 3-4
    grid = np.linspace(0.0, MAX_SYSTEM_EXPONENT, 11)
    values = [expected(a) for a in grid]
    peak = int(np.argmax(values))
    low, high = values[0], values[peak]
    if not low <= ar1_rho <= high and not strict:
        nearest = 0 if ar1_rho < low else peak
        logger.warning(
            "'noise.ar1_rho' = %s is out of this run's reach (%.3f-%.3f with its own "
            "realignment regressors); the run's noise gets the nearest, %.3f",
            ar1_rho,
            low,
            high,
            values[nearest],
        )
        return float(grid[nearest]), float(values[nearest])
    if not low <= ar1_rho <= high:
        raise NoiseBudgetError(
            f"'noise.ar1_rho' = {ar1_rho} cannot be reached at 'design.tr' = {tr_s} s with "
            f"these noise shares: the lag one can lie between {low:.3f} and {high:.3f} "
            "(thermal noise is white, the aliased cardiac and respiratory waves lower it, "
            "drift and slow physiology raise it, and the system noise covers the range "
            "from white to its steepest 1/f spectrum after the high-pass and the "
            "realignment regressors); choose 'noise.ar1_rho' in that range, or lower "
            "'noise.thermal_share', 'noise.physio_share' or 'noise.drift_share' to widen it"
        )
    if peak == 0:
        return 0.0, float(values[0])
    exponent = optimize.brentq(lambda a: expected(a) - ar1_rho, 0.0, grid[peak], xtol=1e-6)
    return float(exponent), float(ar1_rho)


def _solve_kernel(
    fwhm_mm: float,
    geometry: NoiseGeometry,
    gaussian: float,
    variance: dict[str, np.ndarray],
    inverse_n_effective: float = 0.0,
) -> float:
    """Kernel SD (voxels) that gives the mixture the configured Forman FWHM.

    The estimator reads the mean correlation of neighbouring standardised
    residuals; a component's contribution to the pair ``(i, j)`` is
    ``r_c sqrt(V_ci V_cj) / (sd_i sd_j)`` with ``r_c`` 1 (the global parts
    of drift and slow physiology) or the kernel's neighbour correlation
    ``r_s`` (every smooth component, thermal noise included: the image a lab
    analyses has been reconstructed and resampled, which smooths its thermal
    noise too), so the mean is linear in ``r_s``. Neighbours share their
    fields' value (``r_s`` is high), so both voxels of a pair take the field
    weights of the first, scaled by their own gains.

    The estimator correlates standardised residuals of one run, and a sample
    correlation over ``n`` effectively independent scans falls below the
    true ``r`` by about ``r (1 - r^2) / (2 n)``; ``inverse_n_effective``
    (``tr(C^2) / tr(C)^2`` of the residuals' temporal covariance, Bartlett's
    ``1 / n`` for dependent series) sets how much smoother the noise is made
    so that a run reads the configured FWHM.
    """
    if fwhm_mm <= 0:
        return 0.0
    target = np.exp(-2.0 * np.log(2.0) / (fwhm_mm / geometry.voxel_size_mm) ** 2)
    target += target * (1.0 - target**2) * inverse_n_effective / 2.0
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
    smooth = gaussian + sum(
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
            "('noise.drift_share') and slow physiology ('noise.slow_physio_share') alone make "
            "the noise smoother than that; raise 'noise.fwhm_mm' or lower "
            "'noise.drift_share' or 'noise.slow_physio_share'"
        )
    try:
        return kernel_sigma_for_correlation(needed)
    except ValueError:
        raise NoiseBudgetError(
            f"'noise.fwhm_mm' = {fwhm_mm} cannot be reached at 'anatomy.voxel_size_mm' = "
            f"{geometry.voxel_size_mm}: the noise would be nearly constant from voxel to "
            "voxel; lower 'noise.fwhm_mm'"
        ) from None
