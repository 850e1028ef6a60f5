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
import pandas as pd
from scipy.special import expit, logit

__all__ = [
    "estimate_process_dissociation",
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


def estimate_process_dissociation(
    congruent_rejected: np.ndarray,
    incongruent_rejected: np.ndarray,
    n_congruent: int,
    n_incongruent: int,
) -> pd.DataFrame:
    """Estimate D, U and willingness to harm from dilemma responses.

    Parameters
    ----------
    congruent_rejected, incongruent_rejected : numpy.ndarray
        Dilemmas in which harm was rejected, per participant.
    n_congruent, n_incongruent : int
        Dilemmas of each kind.

    Returns
    -------
    pandas.DataFrame
        Columns ``U``, ``D``, ``willingness_to_harm`` (share of incongruent
        dilemmas in which harm was accepted) and ``pd_edge_case`` (True where
        the correction below was applied).

    Notes
    -----
    ``D = p_i / (1 - U)`` divides by zero when ``U = 1``, i.e. a participant
    rejected harm in every congruent and in no incongruent dilemma. There we
    apply the usual correction for extreme proportions and replace the two
    proportions by ``1 - 1/(2 n_c)`` and ``1/(2 n_i)`` before estimating, so
    that no participant is dropped. ``U`` can be negative when ``p_i > p_c``;
    it is kept as estimated (Conway & Gawronski 2013 keep such values too).
    """
    congruent_rejected = np.asarray(congruent_rejected, dtype=float)
    incongruent_rejected = np.asarray(incongruent_rejected, dtype=float)
    if np.any((congruent_rejected < 0) | (congruent_rejected > n_congruent)):
        raise ValueError("congruent_rejected must lie between 0 and n_congruent")
    if np.any((incongruent_rejected < 0) | (incongruent_rejected > n_incongruent)):
        raise ValueError("incongruent_rejected must lie between 0 and n_incongruent")
    p_congruent = congruent_rejected / n_congruent
    p_incongruent = incongruent_rejected / n_incongruent
    edge = np.isclose(p_congruent - p_incongruent, 1.0)
    p_congruent = np.where(edge, 1 - 1 / (2 * n_congruent), p_congruent)
    p_incongruent = np.where(edge, 1 / (2 * n_incongruent), p_incongruent)
    utilitarian = p_congruent - p_incongruent
    deontological = p_incongruent / (1.0 - utilitarian)
    return pd.DataFrame(
        {
            "U": utilitarian,
            "D": deontological,
            "willingness_to_harm": 1.0 - incongruent_rejected / n_incongruent,
            "pd_edge_case": edge,
        }
    )
