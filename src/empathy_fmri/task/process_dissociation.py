"""Scoring the moral dilemma task with the process-dissociation model (Conway & Gawronski 2013)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def estimate_process_dissociation(
    congruent_rejected: np.ndarray,
    incongruent_rejected: np.ndarray,
    n_congruent: int | np.ndarray,
    n_incongruent: int | np.ndarray,
) -> pd.DataFrame:
    """Estimate D, U and willingness to harm from dilemma responses.

    Parameters
    ----------
    congruent_rejected, incongruent_rejected : numpy.ndarray
        Dilemmas in which harm was rejected, per participant.
    n_congruent, n_incongruent : int or numpy.ndarray
        Dilemmas of each kind: one number for every participant, or one per
        participant (a lab's dataset may differ between participants).

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
