"""Job reliability: the split-half reliability of every ROI estimate, simulated or real data."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from empathy_fmri.analysis.reliability import split_half_reliability
from empathy_fmri.io.atomic import write_tsv

__all__ = ["run_reliability"]

logger = logging.getLogger(__name__)


def run_reliability(roi_table_path: str | Path, table_path: str | Path) -> None:
    """Read ``roi_contrasts.tsv``, write :func:`split_half_reliability` as ``reliability.tsv``.

    Parameters
    ----------
    roi_table_path : path
        ``roi_contrasts.tsv`` with the halves' ROI-mean GLM estimates.
    table_path : path
        Output TSV.
    """
    table = split_half_reliability(pd.read_csv(roi_table_path, sep="\t"))
    for row in table[table["selection"] == "independent"].itertuples():
        logger.info(
            "%s (independent, %s, N = %d): ICC(3,1) %.2f [%.2f, %.2f], Spearman-Brown %.2f",
            row.roi,
            row.split,
            row.n_subjects,
            row.icc,
            row.icc_ci_low,
            row.icc_ci_high,
            row.spearman_brown,
        )
    write_tsv(table_path, table)
