"""Brain-behaviour statistics of a study, in memory: every ROI x selection x score."""

from __future__ import annotations

import pandas as pd

from empathy_fmri.analysis.brain_behaviour import brain_behaviour_table
from empathy_fmri.config.sections import AnalysisConfig

__all__ = [
    "brain_behaviour_step",
]


def brain_behaviour_step(
    roi_table: pd.DataFrame, phenotype: pd.DataFrame, analysis: AnalysisConfig, seed: int
) -> pd.DataFrame:
    """Correlate the ROI contrasts with the behavioural scores, as the study configures it.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        From :func:`empathy_fmri.pipeline.roi.roi_step`.
    phenotype : pandas.DataFrame
        Indexed by ``participant_id``, one column per score of ``analysis.scores``.
    analysis : AnalysisConfig
        Scores, permutation and bootstrap counts.
    seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        See :func:`empathy_fmri.analysis.brain_behaviour.brain_behaviour_table`.
    """
    return brain_behaviour_table(
        roi_table,
        phenotype,
        list(analysis.scores),
        n_permutations=analysis.n_permutations_stats,
        n_bootstrap=analysis.n_bootstrap,
        seed=seed,
    )
