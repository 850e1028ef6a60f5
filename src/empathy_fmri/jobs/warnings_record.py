"""Job warnings_record: every warning of a run in plain words, for the report and the console.

A run can finish and still have gaps a reader must know of: results that the
configuration leaves empty by construction (no correlation can survive Holm's
correction with this few permutations; the bootstrap intervals will be n/a),
participants left out of the analysis, input files that were read with a
doubt (a header repetition time other than the sidecar's, trial types that
are no condition), participants left out of a correlation for want of a
phenotype row or score. The workflow prints the configuration's warnings
before any job and the jobs log the others; this job gathers them, from the
config and from the results the jobs wrote, into one file
(``results/warnings.md``) that the report shows beside the bottom line and
the end-of-run message prints after it. Each warning names the participant,
file or config key concerned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from empathy_fmri.config.checks import statistical_warnings
from empathy_fmri.evaluation.conclusion import bottom_line_text
from empathy_fmri.io.atomic import write_text

__all__ = [
    "NO_WARNINGS",
    "run_warnings_record",
    "warning_items",
]

logger = logging.getLogger(__name__)

#: The whole record of a run without a warning.
NO_WARNINGS = (
    "No warnings: every participant of the dataset was analysed, the first level read "
    "every input without a warning, no participant is missing from a correlation, and the "
    "configuration leaves no result empty by construction."
)


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?")) else text + "."


def warning_items(
    config_warnings: Sequence[str],
    participants: pd.DataFrame,
    inputs: Sequence[Mapping[str, Any]],
    stats: Mapping[str, Any],
    phenotype: str,
    excluded: Collection[str] = (),
) -> list[str]:
    """The warnings of a run, one sentence each, naming who or what they concern.

    Parameters
    ----------
    config_warnings : sequence of str
        :func:`~empathy_fmri.config.checks.statistical_warnings` of the study.
    participants : pandas.DataFrame
        ``results/analysis/participants.tsv`` (``participant_id``,
        ``analysed``, ``reason``): a row not analysed is named with its reason.
    inputs : sequence of mapping
        The first level's ``_desc-inputs.json`` of every analysed
        participant; their ``warnings`` (absent in files of older runs) are
        named with the participant.
    stats : mapping
        ``results/stats/brain_behaviour.json``: ``subjects_without_phenotype``
        and ``subjects_without_score`` are named.
    phenotype : str
        The phenotype file (``analysis.phenotype`` in the dataset), named in
        those sentences.
    excluded : collection of str
        ``analysis.participants.exclude``: a participant left out for it is
        said to be, with the key; one left out otherwise, with the table.

    Returns
    -------
    list of str
        Configuration first, then participants left out, input warnings by
        participant, and participants missing from correlations; empty when
        there is no warning.
    """
    items = [f"Configuration: {_sentence(w)}" for w in config_warnings]
    left_out = participants[participants["analysed"].astype(str) != "yes"]
    for subject, reason in zip(left_out["participant_id"], left_out["reason"], strict=True):
        reason = " ".join(str(reason).split()).rstrip(".")
        reason = reason if reason and reason != "n/a" else "no reason given"
        # the config key for an exclusion the config made, the table for any other
        source = (
            "'analysis.participants.exclude'"
            if subject in excluded
            else "results/analysis/participants.tsv"
        )
        items.append(
            f"Left out of the analysis: {subject} ({source}, reason: {reason}); it is in "
            "the dataset but in no map, table or correlation of this run."
        )
    for info in sorted(inputs, key=lambda i: str(i["participant_id"])):
        for warning in info.get("warnings", []):
            items.append(f"Input of {info['participant_id']}: {_sentence(warning)}")
    without = list(stats.get("subjects_without_phenotype", []))
    if without:
        items.append(
            f"Left out of every brain-behaviour correlation: {', '.join(without)}, who "
            f"{'has' if len(without) == 1 else 'have'} no row in the phenotype file "
            f"'{phenotype}' ('analysis.phenotype')."
        )
    for score, subjects in dict(stats.get("subjects_without_score", {})).items():
        if subjects:
            items.append(
                f"Left out of the correlations with '{score}': {', '.join(subjects)}, whose "
                f"'{score}' is n/a in the phenotype file '{phenotype}'."
            )
    return items


def run_warnings_record(
    participants_path: str | Path,
    inputs_paths: Sequence[str | Path],
    stats_json_path: str | Path,
    n_subjects: int,
    analysis: Mapping[str, Any],
    phenotype: str | Path,
    text_path: str | Path,
    excluded: Collection[str] = (),
) -> list[str]:
    """Write :func:`warning_items` of a run as a list (``results/warnings.md``).

    The configuration's warnings are recomputed here from the config, so the
    record holds exactly what the workflow printed before the first job.

    Parameters
    ----------
    participants_path : path
        ``results/analysis/participants.tsv``.
    inputs_paths : sequence of path
        The first level's ``_desc-inputs.json`` of every analysed participant.
    stats_json_path : path
        ``results/stats/brain_behaviour.json``.
    n_subjects : int
        Participants analysed.
    analysis : mapping
        The ``analysis`` keys :func:`~empathy_fmri.config.checks.statistical_warnings`
        reads (``rois``, ``scores``, ``alpha``, ``n_permutations_stats``, ``n_bootstrap``).
    phenotype : path
        The phenotype file, as the sentences name it.
    text_path : path
        Output: one ``- `` item per warning, plain text, Markdown and
        reStructuredText at once (:func:`~empathy_fmri.evaluation.conclusion.bottom_line_text`),
        or the one line :data:`NO_WARNINGS`.
    excluded : collection of str
        ``analysis.participants.exclude``; see :func:`warning_items`.

    Returns
    -------
    list of str
        The warnings written (empty for :data:`NO_WARNINGS`); each is logged.
    """
    participants = pd.read_csv(participants_path, sep="\t", dtype=str, keep_default_na=False)
    inputs = [json.loads(Path(path).read_text()) for path in inputs_paths]
    stats = json.loads(Path(stats_json_path).read_text())
    items = warning_items(
        statistical_warnings(n_subjects, analysis),
        participants,
        inputs,
        stats,
        str(phenotype),
        excluded,
    )
    for item in items:
        logger.warning("%s", item)
    write_text(text_path, bottom_line_text(items) if items else bottom_line_text([NO_WARNINGS]))
    return items
