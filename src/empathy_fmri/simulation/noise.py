"""Gaussian noise of a simulated fMRI run: white thermal noise, smooth 1/f system noise.

Arrays run over the voxels of a mask, in unit SD. Physiological noise and drift
are in :mod:`~empathy_fmri.simulation.physiology` and
:mod:`~empathy_fmri.simulation.drift`; how the components are mixed so that
the data have the configured statistics is in
:mod:`~empathy_fmri.simulation.noise_mixture`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft, linalg, ndimage, optimize

__all__ = [
    "FWHM_PER_SIGMA",
    "MAX_SYSTEM_EXPONENT",
    "gaussian_noise",
    "kernel_sigma_for_correlation",
    "power_law_autocorrelation",
    "smooth_fields",
    "smoothing_sigma_voxels",
    "system_noise",
    "temporal_factor",
]

#: Largest spectral exponent of the system noise. Up to about 5 the lag-one
#: autocorrelation after a 1/128 Hz high-pass rises with the exponent at any
#: TR of 0.5-4 s; steeper spectra put nearly all the power at the knee and
#: the lag one no longer rises.
MAX_SYSTEM_EXPONENT = 5.0
#: Frequencies of the spectrum that defines the autocorrelation: this many
#: times the run's length, so that the circulant embedding's lowest
#: frequency lies far below the knee.
_EMBEDDING_FACTOR = 8

#: FWHM of a Gaussian in units of its standard deviation, sqrt(8 ln 2).
FWHM_PER_SIGMA = float(np.sqrt(8.0 * np.log(2.0)))


def smoothing_sigma_voxels(fwhm_mm: float, voxel_size_mm: float, white_share: float = 0.0) -> float:
    """Gaussian kernel SD (voxels) that makes the noise smooth at ``fwhm_mm``.

    Parameters
    ----------
    fwhm_mm : float
        Target FWHM of the whole noise field (mm), as a Forman-type estimator
        reports it.
    voxel_size_mm : float
        Voxel size (mm).
    white_share : float
        Share of the noise variance that is spatially white (thermal noise);
        the smooth part is made smoother so that the mixture has ``fwhm_mm``.

    Returns
    -------
    float
        Kernel SD in voxels (0 for white noise).

    Notes
    -----
    A field made by convolving white noise with a Gaussian of SD ``s`` has, on
    a grid, a lag-one correlation ``r = sum_k g_k g_{k+1} / sum_k g_k^2`` of the
    *discrete* kernel ``g``. The Forman et al. (1995) estimator reads
    ``FWHM = sqrt(-2 ln 2 / ln r)`` voxels, so we solve for the ``s`` whose
    discrete kernel gives the target ``r``; for wide kernels this is the
    continuous ``FWHM / sqrt(8 ln 2)``, for narrow ones it corrects the
    sampling error. White noise has no lag-one correlation, so a mixture
    with white share ``w`` has ``r = (1 - w) r_smooth``: the smooth part
    must reach ``r / (1 - w)``, which is possible only below one.

    Raises
    ------
    ValueError
        If no kernel reaches ``fwhm_mm`` with that much white noise.
    """
    if fwhm_mm < 0 or voxel_size_mm <= 0:
        raise ValueError(
            f"fwhm_mm must be >= 0 and voxel_size_mm > 0, got {fwhm_mm} and {voxel_size_mm}"
        )
    fwhm_vox = fwhm_mm / voxel_size_mm
    if fwhm_vox <= 0:
        return 0.0
    target_r = np.exp(-2.0 * np.log(2.0) / fwhm_vox**2) / (1.0 - white_share)
    try:
        return kernel_sigma_for_correlation(target_r)
    except ValueError:
        raise ValueError(
            f"noise of FWHM {fwhm_mm} mm at {voxel_size_mm} mm voxels cannot be made with "
            f"{white_share:.0%} white noise"
        ) from None


def kernel_sigma_for_correlation(correlation: float) -> float:
    """Gaussian kernel SD (voxels) whose smoothed white noise has this neighbour correlation.

    Parameters
    ----------
    correlation : float
        Lag-one spatial correlation of the field, in (0, 0.995).

    Returns
    -------
    float
        Kernel SD in voxels (at least 0.05).

    Raises
    ------
    ValueError
        If ``correlation`` is 0.995 or more (the field would be nearly constant).
    """
    if correlation >= 0.995:
        raise ValueError(f"a neighbour correlation of {correlation:.3f} is not reachable")

    def lag_one_correlation(sigma: float) -> float:
        radius = int(np.ceil(5 * sigma)) + 1
        x = np.arange(-radius, radius + 1)
        kernel = np.exp(-(x**2) / (2 * sigma**2))
        return float(np.sum(kernel[:-1] * kernel[1:]) / np.sum(kernel**2))

    low, high = 0.05, 60.0
    if lag_one_correlation(low) > correlation:
        return low
    return float(
        optimize.brentq(
            lambda sigma: lag_one_correlation(sigma) - correlation, low, high, xtol=1e-10
        )
    )


def power_law_autocorrelation(
    n_scans: int, tr_s: float, exponent: float, knee_hz: float
) -> np.ndarray:
    """Autocorrelation of stationary noise whose power falls as ``1 / f^exponent``.

    The spectrum is ``max(f, knee_hz)^-exponent``: a power law above the knee
    and flat below it, so that the process has finite variance and its slow
    part does not grow without bound (slower change is the drift's, a
    component of its own). Real BOLD noise has such a 1/f-like spectrum
    (Zarahn, Aguirre & D'Esposito 1997; Bullmore et al. 2001); an exponent of
    0 is white noise.

    Parameters
    ----------
    n_scans : int
        Lags to return (the run's volumes).
    tr_s : float
        Sampling interval (s).
    exponent : float
        Spectral exponent, ``0 <= exponent <= MAX_SYSTEM_EXPONENT``.
    knee_hz : float
        Frequency below which the spectrum is flat (Hz, > 0).

    Returns
    -------
    numpy.ndarray
        ``(n_scans,)`` autocorrelation at lags ``0 .. n_scans - 1`` (1 at lag 0).

    Notes
    -----
    The autocovariance is the inverse Fourier transform of the spectrum on a
    grid of ``8 n_scans`` samples (a circulant embedding), so the Toeplitz
    matrix it makes is positive semi-definite and is exactly the covariance
    of the first ``n_scans`` samples of that circulant process.
    """
    if n_scans < 2 or tr_s <= 0 or knee_hz <= 0:
        raise ValueError(
            f"n_scans must be >= 2 and tr_s, knee_hz > 0, got {n_scans}, {tr_s}, {knee_hz}"
        )
    if not 0 <= exponent <= MAX_SYSTEM_EXPONENT:
        raise ValueError(f"exponent must lie in [0, {MAX_SYSTEM_EXPONENT}], got {exponent}")
    if exponent == 0:
        correlation = np.zeros(n_scans)
        correlation[0] = 1.0
        return correlation
    length = fft.next_fast_len(_EMBEDDING_FACTOR * n_scans)
    frequencies = np.arange(length // 2 + 1) / (length * tr_s)
    spectrum = np.maximum(frequencies, knee_hz) ** (-exponent)
    covariance = fft.irfft(spectrum, n=length)[:n_scans]
    return covariance / covariance[0]


@lru_cache(maxsize=16)
def temporal_factor(n_scans: int, tr_s: float, exponent: float, knee_hz: float) -> np.ndarray:
    """Lower-triangular ``L`` with ``L L'`` the 1/f noise's correlation matrix.

    ``L @ z`` turns white noise ``z`` (``(n_scans, ...)``, unit variance) into
    stationary noise with :func:`power_law_autocorrelation`; the result is
    cached (float32, read-only) because every run of a study shares it.

    Parameters
    ----------
    n_scans, tr_s, exponent, knee_hz
        As for :func:`power_law_autocorrelation`.

    Returns
    -------
    numpy.ndarray
        Float32 ``(n_scans, n_scans)`` lower-triangular factor.
    """
    correlation = linalg.toeplitz(power_law_autocorrelation(n_scans, tr_s, exponent, knee_hz))
    # steep spectra make the matrix nearly singular: a jitter far below the
    # float32 resolution of the noise keeps the factorisation defined
    correlation[np.diag_indices(n_scans)] += 1e-9
    factor = linalg.cholesky(correlation, lower=True).astype(np.float32)
    factor.setflags(write=False)
    return factor


def gaussian_noise(
    rng: np.random.Generator,
    mask: np.ndarray,
    n_scans: int,
    sigma_voxels: float,
    thermal_share: float,
    system_factor: np.ndarray | None,
) -> np.ndarray:
    """Unit-variance thermal plus system noise.

    Thermal noise is white in space and in time: it is independent from
    voxel to voxel and from sample to sample. System noise (scanner
    instability and the unmodelled rest) is smooth in space, with a 1/f-like
    spectrum in time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    mask : numpy.ndarray
        Boolean 3D mask; the noise is returned for its voxels.
    n_scans : int
        Volumes.
    sigma_voxels : float
        Kernel SD of the system noise's spatial smoothing (from
        :func:`smoothing_sigma_voxels`); 0 makes it white in space.
    thermal_share : float
        Share of the variance that is thermal noise.
    system_factor : numpy.ndarray or None
        ``(n_scans, n_scans)`` factor of the system noise's temporal
        correlation (:func:`temporal_factor`); None makes it white in time.

    Returns
    -------
    numpy.ndarray
        Float32 array ``(n_scans, n_voxels)`` with unit variance in every voxel.
    """
    if not 0 <= thermal_share <= 1:
        raise ValueError(f"thermal_share must lie in [0, 1], got {thermal_share}")
    n_voxels = int(mask.sum())
    if thermal_share == 1:
        return rng.standard_normal((n_scans, n_voxels), dtype=np.float32)
    noise = system_noise(rng, mask, n_scans, sigma_voxels, system_factor)
    if thermal_share > 0:
        noise *= np.float32(np.sqrt(1.0 - thermal_share))
        noise += np.float32(np.sqrt(thermal_share)) * rng.standard_normal(
            (n_scans, n_voxels), dtype=np.float32
        )
    return noise


def system_noise(
    rng: np.random.Generator,
    mask: np.ndarray,
    n_scans: int,
    sigma_voxels: float,
    system_factor: np.ndarray | None,
) -> np.ndarray:
    """Unit-variance system noise: smooth in space, 1/f-like in time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    mask : numpy.ndarray
        Boolean 3D mask; the noise is returned for its voxels.
    n_scans : int
        Volumes.
    sigma_voxels : float
        Kernel SD of the spatial smoothing (voxels); 0 makes it white in space.
    system_factor : numpy.ndarray or None
        ``(n_scans, n_scans)`` factor of the temporal correlation
        (:func:`temporal_factor`); None makes it white in time.

    Returns
    -------
    numpy.ndarray
        Float32 ``(n_scans, n_voxels)``.
    """
    if system_factor is not None and system_factor.shape != (n_scans, n_scans):
        raise ValueError(f"system_factor must be ({n_scans}, {n_scans}), got {system_factor.shape}")
    if sigma_voxels > 0:
        noise = smooth_fields(rng, mask, n_scans, sigma_voxels)
    else:
        noise = rng.standard_normal((n_scans, int(mask.sum())), dtype=np.float32)
    return noise if system_factor is None else system_factor @ noise


def smooth_fields(
    rng: np.random.Generator, mask: np.ndarray, n_fields: int, sigma_voxels: float
) -> np.ndarray:
    """Independent Gaussian random fields of unit variance, smoothed by a Gaussian kernel.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    mask : numpy.ndarray
        Boolean 3D mask; the fields are returned for its voxels.
    n_fields : int
        Number of fields.
    sigma_voxels : float
        Kernel SD (voxels); 0 gives white fields.

    Returns
    -------
    numpy.ndarray
        Float32 ``(n_fields, n_voxels)``.
    """
    n_voxels = int(mask.sum())
    if sigma_voxels <= 0:
        return rng.standard_normal((n_fields, n_voxels), dtype=np.float32)
    box = _bounding_box(mask, margin=int(np.ceil(4 * sigma_voxels)))
    sub_mask = mask[box]
    inside = np.flatnonzero(sub_mask)
    norm = _kernel_norm(sigma_voxels)
    fields = np.empty((n_fields, n_voxels), dtype=np.float32)
    field = np.empty(sub_mask.shape, dtype=np.float32)
    smoothed = np.empty(sub_mask.shape, dtype=np.float32)
    for index in range(n_fields):
        rng.standard_normal(out=field, dtype=np.float32)
        ndimage.gaussian_filter(field, sigma_voxels, mode="reflect", output=smoothed)
        np.take(smoothed.reshape(-1), inside, out=fields[index])
    fields /= norm
    return fields


def _kernel_norm(sigma_voxels: float) -> float:
    """SD of white noise after a 3D Gaussian filter (scipy's discrete kernel)."""
    radius = int(4.0 * sigma_voxels + 0.5)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma_voxels) ** 2)
    kernel /= kernel.sum()
    return float(np.sum(kernel**2) ** 1.5)


def _bounding_box(mask: np.ndarray, margin: int) -> tuple[slice, ...]:
    index = np.nonzero(mask)
    return tuple(
        slice(max(int(i.min()) - margin, 0), min(int(i.max()) + margin + 1, n))
        for i, n in zip(index, mask.shape, strict=True)
    )
