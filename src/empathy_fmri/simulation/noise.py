"""Noise of a simulated fMRI run: thermal, AR(1), spatially smooth, physiological, drift.

All functions return arrays of shape ``(n_scans, n_voxels)`` over the voxels of
a mask, in the units their arguments give (absolute intensity or unit SD).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

__all__ = [
    "FWHM_PER_SIGMA",
    "ar1_filter",
    "drift",
    "gaussian_noise",
    "max_fwhm_mm",
    "physiological_noise",
    "smoothing_sigma_voxels",
]

#: FWHM of a Gaussian in units of its standard deviation, sqrt(8 ln 2).
FWHM_PER_SIGMA = float(np.sqrt(8.0 * np.log(2.0)))


def smoothing_sigma_voxels(
    fwhm_mm: float, voxel_size_mm: float, white_share: float = 0.0
) -> float:
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
    if target_r >= 0.995:
        largest = max_fwhm_mm(voxel_size_mm, white_share)
        raise ValueError(
            f"noise of FWHM {fwhm_mm} mm at {voxel_size_mm} mm voxels cannot be made with "
            f"{white_share:.0%} white noise; the most is {largest:.1f} mm"
        )

    def lag_one_correlation(sigma: float) -> float:
        radius = int(np.ceil(5 * sigma)) + 1
        x = np.arange(-radius, radius + 1)
        kernel = np.exp(-(x**2) / (2 * sigma**2))
        return float(np.sum(kernel[:-1] * kernel[1:]) / np.sum(kernel**2))

    low, high = 0.05, max(4.0 * fwhm_vox, 1.0)
    if lag_one_correlation(low) > target_r:
        return low
    for _ in range(60):
        mid = 0.5 * (low + high)
        if lag_one_correlation(mid) < target_r:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def max_fwhm_mm(voxel_size_mm: float, white_share: float) -> float:
    """Largest noise FWHM (mm) a mixture with this white share can have."""
    if white_share <= 0:
        return float("inf")
    return float(voxel_size_mm * np.sqrt(-2.0 * np.log(2.0) / np.log(0.995 * (1 - white_share))))


def ar1_filter(innovations: np.ndarray, rho: float) -> np.ndarray:
    """Turn unit-variance white noise into a stationary unit-variance AR(1) process.

    Parameters
    ----------
    innovations : numpy.ndarray
        White noise of shape ``(n_scans, ...)``, unit variance.
    rho : float
        Lag-one autocorrelation, ``0 <= rho < 1``.

    Returns
    -------
    numpy.ndarray
        ``x[t] = rho x[t-1] + sqrt(1 - rho^2) e[t]`` with ``x[0] = e[0]``.
    """
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1), got {rho}")
    if rho == 0:
        return innovations
    gain = np.sqrt(1.0 - rho**2)
    initial = (1.0 - gain) * innovations[:1]
    filtered, _ = signal.lfilter([gain], [1.0, -rho], innovations, axis=0, zi=initial)
    return filtered.astype(innovations.dtype, copy=False)


def gaussian_noise(
    rng: np.random.Generator,
    mask: np.ndarray,
    n_scans: int,
    sigma_voxels: float,
    thermal_share: float,
    ar1_rho: float,
) -> np.ndarray:
    """Unit-variance noise: smooth and white parts, AR(1) in time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    mask : numpy.ndarray
        Boolean 3D mask; the noise is returned for its voxels.
    n_scans : int
        Volumes.
    sigma_voxels : float
        Kernel SD of the smooth part (from :func:`smoothing_sigma_voxels`).
    thermal_share : float
        Share of the variance that is spatially white.
    ar1_rho : float
        Lag-one temporal autocorrelation of both parts.

    Returns
    -------
    numpy.ndarray
        Float32 array ``(n_scans, n_voxels)`` with unit variance in every voxel.
    """
    if not 0 <= thermal_share <= 1:
        raise ValueError(f"thermal_share must lie in [0, 1], got {thermal_share}")
    n_voxels = int(mask.sum())
    innovations = np.empty((n_scans, n_voxels), dtype=np.float32)
    smooth_weight = np.sqrt(1.0 - thermal_share)
    if sigma_voxels > 0 and smooth_weight > 0:
        box = _bounding_box(mask, margin=int(np.ceil(4 * sigma_voxels)))
        sub_mask = mask[box]
        norm = _kernel_norm(sigma_voxels)
        for t in range(n_scans):
            field = rng.standard_normal(sub_mask.shape, dtype=np.float32)
            smooth = ndimage.gaussian_filter(field, sigma_voxels, mode="reflect")
            innovations[t] = smooth[sub_mask] / norm
    else:
        innovations[:] = rng.standard_normal((n_scans, n_voxels), dtype=np.float32)
        smooth_weight = 1.0 if sigma_voxels == 0 else smooth_weight
    if sigma_voxels > 0 and thermal_share > 0:
        innovations *= smooth_weight
        innovations += np.sqrt(thermal_share) * rng.standard_normal(
            (n_scans, n_voxels), dtype=np.float32
        )
    return ar1_filter(innovations, ar1_rho)


def physiological_noise(
    rng: np.random.Generator,
    frame_times_s: np.ndarray,
    voxel_gain: np.ndarray,
) -> tuple[np.ndarray, dict[str, float]]:
    """Cardiac and respiratory fluctuations, aliased by sampling at the TR.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source (rates, phases, per-voxel weights).
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    voxel_gain : numpy.ndarray
        Per-voxel amplitude (absolute units); the SD of the returned noise in a
        voxel is about its gain.

    Returns
    -------
    noise : numpy.ndarray
        ``(n_scans, n_voxels)`` float32.
    parameters : dict
        The cardiac and respiratory rates (Hz) that were drawn.
    """
    cardiac_hz = float(np.clip(rng.normal(1.1, 0.1), 0.8, 1.6))
    respiratory_hz = float(np.clip(rng.normal(0.28, 0.03), 0.18, 0.4))
    n_voxels = voxel_gain.shape[0]
    noise = np.zeros((frame_times_s.size, n_voxels), dtype=np.float32)
    for rate_hz in (cardiac_hz, respiratory_hz):
        phase = rng.uniform(0, 2 * np.pi, size=n_voxels)
        weight = rng.normal(1.0, 0.25, size=n_voxels)
        # sin(a + p) = sin a cos p + cos a sin p: two outer products, no loop.
        angle = 2 * np.pi * rate_hz * frame_times_s[:, None]
        noise += np.sin(angle).astype(np.float32) * (weight * np.cos(phase)).astype(np.float32)
        noise += np.cos(angle).astype(np.float32) * (weight * np.sin(phase)).astype(np.float32)
    # each wave has variance weight^2 / 2, two waves with E[weight^2] ~ 1.06
    noise *= (voxel_gain / np.sqrt(1.0 + 0.25**2)).astype(np.float32)
    return noise, {"cardiac_hz": cardiac_hz, "respiratory_hz": respiratory_hz}


def drift(
    rng: np.random.Generator,
    frame_times_s: np.ndarray,
    voxel_gain: np.ndarray,
    max_frequency_hz: float = 0.008,
) -> np.ndarray:
    """Slow scanner drift: a linear trend and cosines below ``max_frequency_hz``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    voxel_gain : numpy.ndarray
        Per-voxel SD of the drift over the run (absolute units).
    max_frequency_hz : float
        Highest drift frequency; 1/128 s is the usual high-pass cut-off.

    Returns
    -------
    numpy.ndarray
        ``(n_scans, n_voxels)`` float32, zero-mean over the run in every voxel.
    """
    duration = frame_times_s[-1] - frame_times_s[0] + 1e-9
    n_cosines = max(1, int(np.floor(2 * duration * max_frequency_hz)))
    t = (frame_times_s - frame_times_s[0]) / duration
    basis = np.stack([t] + [np.cos(np.pi * k * t) for k in range(1, n_cosines + 1)], axis=1)
    # centred and orthonormalised (the trend and the first cosine are nearly
    # collinear), scaled so each column has unit SD over the run
    basis, _ = np.linalg.qr(basis - basis.mean(axis=0))
    basis *= np.sqrt(t.size)
    shared = rng.normal(size=basis.shape[1])
    shared /= np.linalg.norm(shared)
    per_voxel = shared * (1.0 + 0.3 * rng.standard_normal((voxel_gain.size, basis.shape[1])))
    per_voxel /= np.sqrt(1.0 + 0.3**2)
    per_voxel *= voxel_gain[:, None]
    return basis.astype(np.float32) @ per_voxel.T.astype(np.float32)


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
