"""Moral dilemma task and the process-dissociation model (Conway & Gawronski 2013).

In congruent dilemmas both inclinations reject harm; in incongruent ones
harm would maximise outcomes. With deontological parameter ``D`` and
utilitarian parameter ``U``::

    P(reject harm | congruent)   = U + (1 - U) D
    P(reject harm | incongruent) = (1 - U) D

so ``U = p_c - p_i`` and ``D = p_i / (1 - U)``, where ``p_c`` and ``p_i`` are
the observed shares of dilemmas in which harm was rejected.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

__all__ = [
    "latent_to_probability",
    "simulate_responses",
]


def latent_to_probability(
    mean: float, sd_logit: float, coupling: float, trait: np.ndarray, unique: np.ndarray
) -> np.ndarray:
    """Map the latent trait to a probability-scale parameter through a logit link.

    Parameters
    ----------
    mean : float
        Parameter value at trait 0 (probability scale, 0-1).
    sd_logit : float
        Between-subject SD on the logit scale.
    coupling : float
        Correlation (on the logit scale) with the trait, -1 to 1.
    trait, unique : numpy.ndarray
        Standard-normal latent trait and subject-specific deviation.

    Returns
    -------
    numpy.ndarray
        ``expit(logit(mean) + sd_logit * (coupling * trait + sqrt(1 - coupling^2) * unique))``.
    """
    if not 0 < mean < 1:
        raise ValueError(f"mean must lie in (0, 1), got {mean}")
    if not -1 <= coupling <= 1:
        raise ValueError(f"coupling must lie in [-1, 1], got {coupling}")
    latent = coupling * trait + np.sqrt(1.0 - coupling**2) * unique
    return expit(logit(mean) + sd_logit * latent)


def simulate_responses(
    rng: np.random.Generator,
    d_true: np.ndarray,
    u_true: np.ndarray,
    n_congruent: int,
    n_incongruent: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Count the dilemmas in which each participant rejects harm.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    d_true, u_true : numpy.ndarray
        True process-dissociation parameters per participant.
    n_congruent, n_incongruent : int
        Dilemmas of each kind.

    Returns
    -------
    congruent_rejected, incongruent_rejected : numpy.ndarray
        Binomial counts of harm rejected.
    """
    p_congruent = u_true + (1 - u_true) * d_true
    p_incongruent = (1 - u_true) * d_true
    return (
        rng.binomial(n_congruent, p_congruent),
        rng.binomial(n_incongruent, p_incongruent),
    )
