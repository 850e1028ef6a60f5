"""Job brain_behaviour: ROI contrasts against the behavioural scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_json, write_tsv
from empathy_fmri.io.bids import read_phenotype
from empathy_fmri.pipeline.brain_behaviour import brain_behaviour_step

__all__ = [
    "run_brain_behaviour",
]


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
    """
    roi_table = pd.read_csv(roi_table_path, sep="\t")
    phenotype = read_phenotype(phenotype_path, list(analysis.scores))
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
            "results": records,
        },
    )
