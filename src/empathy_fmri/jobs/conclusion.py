"""Job conclusion: the study's bottom line in plain words, from its result tables."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from empathy_fmri.evaluation.conclusion import INFLATED_RATIO, bottom_line, bottom_line_text
from empathy_fmri.io.atomic import write_text

__all__ = ["run_conclusion"]

logger = logging.getLogger(__name__)


def run_conclusion(
    stats_path: str | Path,
    power_path: str | Path,
    alpha: float,
    text_path: str | Path,
    graded_path: str | Path | None = None,
    inflated_ratio: float = INFLATED_RATIO,
) -> None:
    """Write :func:`~empathy_fmri.evaluation.conclusion.bottom_line` of a run.

    Parameters
    ----------
    stats_path : path
        ``brain_behaviour.tsv``.
    power_path : path
        ``power.tsv``.
    alpha : float
        ``analysis.alpha``, applied to the Holm-corrected p.
    text_path : path
        Output: ``conclusion.md``, a list that reads as plain text, Markdown
        and reStructuredText (:func:`~empathy_fmri.evaluation.conclusion.bottom_line_text`).
    graded_path : path, optional
        ``correlation_recovery.tsv`` of a simulated run: its ``r_population``
        (the truth) grades the results. None for real data.
    inflated_ratio : float
        See :func:`~empathy_fmri.evaluation.conclusion.bottom_line`.
    """
    stats = pd.read_csv(stats_path, sep="\t", na_values="n/a")
    power = pd.read_csv(power_path, sep="\t")
    population = None
    if graded_path is not None:
        graded = pd.read_csv(graded_path, sep="\t", na_values="n/a")
        population = graded[graded["selection"] == "independent"][["roi", "score", "r_population"]]
    paragraphs = bottom_line(stats, power, alpha, population, inflated_ratio)
    for paragraph in paragraphs:
        logger.info("%s", paragraph)
    write_text(text_path, bottom_line_text(paragraphs))
