"""Task-evoked BOLD signal: haemodynamic response and activation maps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from nilearn.glm.first_level import compute_regressor
from scipy import stats

from empathy_fmri.task.conditions import CONDITIONS

__all__ = [
    "block_response_peak",
    "condition_regressors",
    "double_gamma_hrf",
    "hrf_kernel",
]


def double_gamma_hrf(
    time_s: np.ndarray,
    delay_s: float = 6.0,
    undershoot_s: float = 12.0,
    dispersion: float = 0.9,
    undershoot_dispersion: float = 0.9,
    ratio: float = 0.35,
) -> np.ndarray:
    """Difference of two gamma densities, the shape of nilearn's Glover (1999) HRF.

    Parameters
    ----------
    time_s : numpy.ndarray
        Times after stimulus onset (s).
    delay_s : float
        Delay of the response gamma (its shape times its scale, s).
    undershoot_s : float
        Delay of the undershoot gamma (s).
    dispersion, undershoot_dispersion : float
        Scales of the two gammas.
    ratio : float
        Amplitude of the undershoot relative to the response.

    Returns
    -------
    numpy.ndarray
        The response at ``time_s`` (not normalised). With the defaults it is
        nilearn's ``glover`` HRF.
    """
    if delay_s <= 1 or undershoot_s <= 1:
        raise ValueError(
            f"delay_s and undershoot_s must exceed 1 s, got {delay_s} and {undershoot_s}"
        )
    response = stats.gamma.pdf(time_s, delay_s / dispersion, scale=dispersion)
    undershoot = stats.gamma.pdf(
        time_s, undershoot_s / undershoot_dispersion, scale=undershoot_dispersion
    )
    return response - ratio * undershoot


def hrf_kernel(delay_s: float, undershoot_s: float) -> Callable[[float, int], np.ndarray]:
    """Return a subject's HRF as a callable that nilearn accepts as ``hrf_model``.

    Parameters
    ----------
    delay_s, undershoot_s : float
        Parameters of :func:`double_gamma_hrf`.

    Returns
    -------
    callable
        ``kernel(t_r, oversampling)`` giving the HRF on the oversampled grid,
        normalised to unit sum so a long block reaches a plateau of one.
    """

    def subject_hrf(t_r: float, oversampling: int = 50) -> np.ndarray:
        dt = t_r / oversampling
        kernel = double_gamma_hrf(np.arange(0.0, 32.0, dt), delay_s, undershoot_s)
        return kernel / kernel.sum()

    return subject_hrf


def block_response_peak(
    hrf: Callable[[float, int], np.ndarray] | str, block_s: float, resolution_s: float = 0.1
) -> float:
    """Peak of the modelled response to one block of unit amplitude.

    Percent signal change of a block design is reported at this peak (as
    MarsBaR does): a regressor divided by it rises to one during a block, so
    its coefficient is the block's peak response in the data's units.

    Parameters
    ----------
    hrf : callable or str
        A kernel from :func:`hrf_kernel` or a nilearn HRF name (for nilearn's
        ``"... + derivative"`` models, the main HRF).
    block_s : float
        Block duration (s).
    resolution_s : float
        Sampling step of the response (s).

    Returns
    -------
    float
        The maximum of the block's response.
    """
    if isinstance(hrf, str):
        hrf = hrf.split("+")[0].strip()
    frame_times = np.arange(0.0, block_s + 40.0, resolution_s)
    # nilearn's default oversampling (50) of a 0.1 s grid convolves on a 2 ms
    # grid, 0.2-3 s per call; 10 (a 10 ms grid) changes the peak by < 1e-5.
    response, _ = compute_regressor(
        np.array([[0.0], [block_s], [1.0]]),
        hrf,
        frame_times,
        con_id="block",
        oversampling=10,
    )
    return float(response[:, 0].max())


def condition_regressors(
    events: pd.DataFrame,
    frame_times_s: np.ndarray,
    hrf: Callable[[float, int], np.ndarray] | str = "glover",
    peak_scale: bool = True,
) -> dict[str, np.ndarray]:
    """Expected response to each condition, sampled at the frame times.

    Parameters
    ----------
    events : pandas.DataFrame
        BIDS events with ``onset``, ``duration`` and ``trial_type``.
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    hrf : callable or str
        A kernel from :func:`hrf_kernel` or a nilearn HRF name.
    peak_scale : bool
        Divide each regressor by :func:`block_response_peak` of its blocks so a
        block peaks at one: an amplitude times it is the peak response.

    Returns
    -------
    dict of str to numpy.ndarray
        One regressor per condition of :data:`~empathy_fmri.simulation.design.CONDITIONS`.
    """
    regressors = {}
    for condition in CONDITIONS:
        rows = events[events["trial_type"] == condition]
        exp_condition = np.vstack(
            [rows["onset"].to_numpy(), rows["duration"].to_numpy(), np.ones(len(rows))]
        )
        signal, _ = compute_regressor(exp_condition, hrf, frame_times_s, con_id=condition)
        scale = block_response_peak(hrf, float(rows["duration"].median())) if peak_scale else 1
        regressors[condition] = signal[:, 0] / scale
    return regressors
