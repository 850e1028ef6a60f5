"""Cardiac and respiratory noise: quasi-periodic waveforms, aliased at the TR.

A voxel's physiological noise is a RETROICOR-like expansion (Glover, Li & Ress
2000): the first two harmonics of the cardiac and of the respiratory phase,
``sum_m a_m cos(m phi(t)) + b_m sin(m phi(t))``. The phases come from rates that
wander over the run (heart-rate variability, breathing rate), and breathing
depth varies too, so the noise is not a pair of pure tones. Sampled once per
TR (1.1 Hz heartbeat at TR 2 s) the waves alias to arbitrary frequencies in the
band the analysis keeps.

The coefficients ``a_m, b_m`` of each voxel are smooth random fields, weighted
by tissue: neighbouring voxels share their phase, as they do in real EPI near
vessels and CSF, so the noise is spatially coherent rather than white.

The same breathing and heart-rate processes also move the BOLD signal slowly:
changes in breathing depth and rate (respiration volume per time, RVT) change
arterial CO2 and so blood flow, with the respiration response function of
Birn et al. (2008); changes in heart rate act through the cardiac response
function of Chang, Cunningham & Glover (2009). These slow fluctuations (mostly
0.01-0.1 Hz, inside the analysis band) are positively autocorrelated, unlike
the aliased waves, and the RETROICOR expansion does not contain them (Birn et
al. 2006; Shmueli et al. 2007).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from empathy_fmri.simulation.noise import smooth_fields

__all__ = [
    "CARDIAC_HZ",
    "CARDIAC_SHARE",
    "HEART_RATE_SHARE",
    "RESPIRATORY_HZ",
    "SLOW_GLOBAL_SHARE",
    "PhysiologicalWaveforms",
    "cardiac_response",
    "physiological_waveforms",
    "respiration_response",
    "slow_physiology",
    "tissue_gain",
]

#: Mean and SD between runs of the heart rate (Hz).
CARDIAC_HZ = (1.1, 0.1)
#: Mean and SD between runs of the breathing rate (Hz).
RESPIRATORY_HZ = (0.28, 0.03)
#: Share of the physiological variance that is cardiac (the rest is respiratory).
CARDIAC_SHARE = 0.5
#: Amplitude of the second harmonic relative to the first (RETROICOR order 2).
SECOND_HARMONIC = 0.5
#: Relative weights of grey matter, white matter and CSF in the noise amplitude
#: (physiological noise is largest in CSF and grey matter and smallest in white
#: matter; Krueger & Glover 2001, Bianciardi et al. 2009).
TISSUE_WEIGHTS = (1.0, 0.5, 2.0)
_FINE_STEP_S = 0.05
#: Share of the slow physiological variance that follows heart rate (the rest
#: follows breathing depth and rate).
HEART_RATE_SHARE = 0.5
#: Share of the slow physiological variance that is one time course in every
#: voxel (times its tissue gain): breathing-related changes of arterial CO2 and
#: heart-rate changes move the whole grey matter together (Birn et al. 2006)
#: and dominate the global signal (Power et al. 2017, NeuroImage 146:609); the
#: rest varies smoothly over space.
SLOW_GLOBAL_SHARE = 0.5
#: Length (s) of the response functions; both have decayed to <1% of their peak.
_RESPONSE_S = 40.0


@dataclass(frozen=True)
class PhysiologicalWaveforms:
    """Unit-variance physiological regressors of one run.

    Attributes
    ----------
    regressors : numpy.ndarray
        ``(n_scans, 8)``: cosine and sine of the first two cardiac harmonics,
        then of the first two respiratory harmonics, each column zero-mean
        and scaled so that a voxel with unit coefficients has unit variance
        (the cardiac share :data:`CARDIAC_SHARE`).
    slow_regressors : numpy.ndarray
        ``(n_scans, 2)``: respiration volume per time convolved with the
        respiration response function, and heart rate convolved with the
        cardiac response function, zero-mean and scaled so that a voxel with
        unit coefficients has unit variance (the heart-rate share
        :data:`HEART_RATE_SHARE`).
    cardiac_hz, respiratory_hz : float
        Mean heart and breathing rates of the run.
    """

    regressors: np.ndarray
    slow_regressors: np.ndarray
    cardiac_hz: float
    respiratory_hz: float


def respiration_response(times_s: np.ndarray) -> np.ndarray:
    """Respiration response function of Birn et al. (2008, NeuroImage 40:644).

    ``0.6 t^2.1 exp(-t / 1.6) - 0.0023 t^3.54 exp(-t / 4.25)``: a rise that
    peaks near 3 s and an undershoot near 15 s.
    """
    t = np.clip(times_s, 0.0, None)
    return 0.6 * t**2.1 * np.exp(-t / 1.6) - 0.0023 * t**3.54 * np.exp(-t / 4.25)


def cardiac_response(times_s: np.ndarray) -> np.ndarray:
    """Cardiac response function of Chang, Cunningham & Glover (2009, NeuroImage 44:857).

    ``0.6 t^2.7 exp(-t / 1.6) - 16 / sqrt(18 pi) exp(-(t - 12)^2 / 18)``: a
    rise near 4 s and a dip near 12 s.
    """
    t = np.clip(times_s, 0.0, None)
    return 0.6 * t**2.7 * np.exp(-t / 1.6) - 16.0 / np.sqrt(2 * np.pi * 9.0) * np.exp(
        -((t - 12.0) ** 2) / 18.0
    )


def _slow_response(
    driver: np.ndarray, response: np.ndarray, fine: np.ndarray, frame_times_s: np.ndarray
) -> np.ndarray:
    """A driver on the fine grid, demeaned, convolved causally, read at the frames."""
    convolved = np.convolve(driver - driver.mean(), response)[: fine.size] * _FINE_STEP_S
    return np.interp(frame_times_s, fine, convolved)


def _wandering_rate(
    rng: np.random.Generator, times_s: np.ndarray, mean_hz: float, sd_hz: float, period_s: float
) -> np.ndarray:
    """A rate that fluctuates slowly around its mean (Gaussian-smoothed white noise)."""
    step = times_s[1] - times_s[0]
    white = rng.standard_normal(times_s.size)
    width = max(int(period_s / step), 1)
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    slow = np.convolve(white, kernel / np.sqrt(np.sum(kernel**2)), mode="same")
    return mean_hz + sd_hz * slow


def physiological_waveforms(
    rng: np.random.Generator,
    frame_times_s: np.ndarray,
    cardiac_hz: float | None = None,
    respiratory_hz: float | None = None,
) -> PhysiologicalWaveforms:
    """Draw one run's cardiac and respiratory waveforms at the acquisition times.

    Heart rate 1.1 +- 0.1 Hz between runs with 0.05 Hz variability within a
    run (over about 10 s); breathing 0.28 +- 0.03 Hz with 0.02 Hz variability
    and a depth that varies by 30% over about 8 s (Birn et al. 2006). The
    slow regressors come from the same rate and depth: respiration volume
    per time (depth times breathing rate) through the respiration response
    function, heart rate through the cardiac response function.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    cardiac_hz, respiratory_hz : float, optional
        Mean rates of the run (drawn when not given).

    Returns
    -------
    PhysiologicalWaveforms
    """
    if cardiac_hz is None:
        cardiac_hz = float(np.clip(rng.normal(*CARDIAC_HZ), 0.8, 1.6))
    if respiratory_hz is None:
        respiratory_hz = float(np.clip(rng.normal(*RESPIRATORY_HZ), 0.18, 0.4))
    fine = np.arange(frame_times_s[0] - 30.0, frame_times_s[-1] + 30.0, _FINE_STEP_S)
    lags = np.arange(0.0, _RESPONSE_S, _FINE_STEP_S)
    responses = (cardiac_response(lags), respiration_response(lags))
    columns, slow = [], []
    for (mean_hz, sd_hz, period_s, depth_sd, share, slow_share), response in zip(
        (
            (cardiac_hz, 0.05, 10.0, 0.0, CARDIAC_SHARE, HEART_RATE_SHARE),
            (respiratory_hz, 0.02, 8.0, 0.3, 1.0 - CARDIAC_SHARE, 1.0 - HEART_RATE_SHARE),
        ),
        responses,
        strict=True,
    ):
        rate = np.clip(_wandering_rate(rng, fine, mean_hz, sd_hz, period_s), 0.1, None)
        phase = 2 * np.pi * np.cumsum(rate) * _FINE_STEP_S + rng.uniform(0, 2 * np.pi)
        depth = np.clip(_wandering_rate(rng, fine, 1.0, depth_sd, period_s), 0.1, None)
        depth_at_frames = np.interp(frame_times_s, fine, depth)
        phase_at_frames = np.interp(frame_times_s, fine, phase)
        harmonics = []
        for order, amplitude in ((1, 1.0), (2, SECOND_HARMONIC)):
            harmonics.append(amplitude * depth_at_frames * np.cos(order * phase_at_frames))
            harmonics.append(amplitude * depth_at_frames * np.sin(order * phase_at_frames))
        block = np.column_stack(harmonics)
        block -= block.mean(axis=0)
        # coefficients are unit-variance fields: a voxel's variance is the sum of
        # the column variances, scaled here to this component's share
        block *= np.sqrt(share / np.sum(block.var(axis=0)))
        columns.append(block)
        # heart rate; respiration volume per time (depth x rate; the cardiac
        # depth is constant, so its driver is the rate alone)
        series = _slow_response(depth * rate, response, fine, frame_times_s)
        series -= series.mean()
        slow.append(series * np.sqrt(slow_share / series.var()))
    return PhysiologicalWaveforms(
        np.hstack(columns), np.column_stack(slow), cardiac_hz, respiratory_hz
    )


def tissue_gain(
    grey_prob: np.ndarray, white_prob: np.ndarray, csf_prob: np.ndarray, grey: np.ndarray
) -> np.ndarray:
    """Relative physiological noise amplitude per voxel, RMS one over grey matter.

    Parameters
    ----------
    grey_prob, white_prob, csf_prob : numpy.ndarray
        Tissue probabilities of each voxel (vectors).
    grey : numpy.ndarray
        Boolean vector of the grey-matter voxels.

    Returns
    -------
    numpy.ndarray
        Gain per voxel.
    """
    w_grey, w_white, w_csf = TISSUE_WEIGHTS
    gain = w_grey * grey_prob + w_white * white_prob + w_csf * csf_prob
    gain = np.maximum(gain, 0.25 * w_white)
    return gain / np.sqrt(np.mean(gain[grey] ** 2))


def slow_physiology(
    rng: np.random.Generator,
    mask: np.ndarray,
    gain: np.ndarray,
    slow_regressors: np.ndarray,
    sd: float,
    sigma_voxels: float,
) -> np.ndarray:
    """The slow physiological fluctuations of one run in every brain voxel.

    A share :data:`SLOW_GLOBAL_SHARE` of the variance is the sum of the slow
    regressors, the same in every voxel up to its tissue gain; the rest is
    each regressor times its own smooth unit-variance field.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source of the fields.
    mask : numpy.ndarray
        Boolean 3D brain mask.
    gain : numpy.ndarray
        Tissue gain per brain voxel (:func:`tissue_gain`).
    slow_regressors : numpy.ndarray
        ``(n_scans, 2)`` from :func:`physiological_waveforms`.
    sd : float
        Amplitude in grey matter (intensity units).
    sigma_voxels : float
        Smoothing kernel SD of the fields (voxels).

    Returns
    -------
    numpy.ndarray
        Float32 ``(n_scans, n_voxels)``.
    """
    regressors = slow_regressors.astype(np.float32)
    fields = smooth_fields(rng, mask, regressors.shape[1], sigma_voxels)
    fields *= np.float32(np.sqrt(1.0 - SLOW_GLOBAL_SHARE))
    fields += np.float32(np.sqrt(SLOW_GLOBAL_SHARE))
    fields *= (sd * gain).astype(np.float32)
    return regressors @ fields
