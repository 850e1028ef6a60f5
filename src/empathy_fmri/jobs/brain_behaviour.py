"""Job brain_behaviour: ROI contrasts against the behavioural scores."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_json, write_tsv
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.io.phenotype import read_phenotype
from empathy_fmri.pipeline.brain_behaviour import brain_behaviour_step

__all__ = [
    "MIN_PARTICIPANTS",
    "run_brain_behaviour",
]

logger = logging.getLogger(__name__)

#: Fewest participants with a brain value and a phenotype row for a correlation.
MIN_PARTICIPANTS = 4


def run_brain_behaviour(
    roi_table_path: str,
    phenotype_path: str,
    analysis: AnalysisConfig,
    seed: int,
    table_path: str,
    json_path: str,
    config_hash: str,
) -> None:
    """Read ROI and phenotype tables, run the statistics, write TSV and JSON.

    Subjects of the ROI table without a phenotype row, and subjects whose
    score is ``n/a``, are left out of the correlations; both are logged as
    warnings that name them and are listed in the JSON
    (``subjects_without_phenotype``, ``subjects_without_score``).

    Parameters
    ----------
    roi_table_path, phenotype_path : str
        ``roi_contrasts.tsv`` and ``phenotype/moral_dilemmas.tsv``.
    analysis : AnalysisConfig
        Scores, resample counts and alpha.
    seed : int
        Seed of the resampling.
    table_path, json_path : str
        Outputs.
    config_hash : str
        Fingerprint of the sections the statistics depend on, written into the JSON.

    Raises
    ------
    InputFileError
        If the phenotype file is unreadable, lacks a column, has a score that
        is not a number, or has a row for fewer than 4 of the subjects.
    """
    roi_table = pd.read_csv(roi_table_path, sep="\t")
    scores = list(analysis.scores)
    phenotype = read_phenotype(phenotype_path, scores, analysis.dilemmas)
    subjects = [str(s) for s in dict.fromkeys(roi_table["participant_id"])]
    without = [s for s in subjects if s not in phenotype.index]
    with_row = [s for s in subjects if s in phenotype.index]
    if len(with_row) < MIN_PARTICIPANTS:
        raise InputFileError(
            phenotype_path,
            f"has a row for only {len(with_row)} of the {len(subjects)} subjects analysed "
            f"(a correlation needs {MIN_PARTICIPANTS}); participant_id must match the BIDS "
            f"labels, e.g. {subjects[:3]}, and the file has e.g. {list(phenotype.index[:3])}",
        )
    if without:
        logger.warning(
            "phenotype file '%s' has no row for %d of the %d subjects analysed, who are left "
            "out of every correlation: %s",
            phenotype_path,
            len(without),
            len(subjects),
            ", ".join(without),
        )
    without_score = {
        score: [s for s in with_row if np.isnan(phenotype.loc[s, score])] for score in scores
    }
    for score, missing in without_score.items():
        if missing:
            logger.warning(
                "phenotype file '%s' has n/a in column '%s' for %s, left out of that score's "
                "correlations",
                phenotype_path,
                score,
                ", ".join(missing),
            )
    table = brain_behaviour_step(roi_table, phenotype, analysis, seed)
    write_tsv(table_path, table)
    records = table.replace({np.nan: None}).to_dict(orient="records")
    write_json(
        json_path,
        {
            "config_hash": config_hash,
            "alpha": analysis.alpha,
            "correction": "Holm across ROI x score within each selection",
            "p": "two-sided permutation p (pairings)",
            "subjects_without_phenotype": without,
            "subjects_without_score": without_score,
            "results": records,
        },
    )
