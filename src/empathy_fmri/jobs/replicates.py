"""Jobs power_replicate and power_replicates_compare: replicate studies and their comparison."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from empathy_fmri.evaluation.replicates import compare_with_fast_mode, family_wise_error
from empathy_fmri.pipeline.replicate import KINDS, fast_mode_for_replicates, run_replicate

logger = logging.getLogger(__name__)


def run_replicate_job(
    config: Mapping[str, Any], index: int, kind: str, outputs: Mapping[str, str | Path]
) -> None:
    """Run :func:`run_replicate` and write its tables and summary.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    index : int
        Zero-based replicate index.
    kind : str
        ``effect`` or ``null``.
    outputs : mapping
        Paths for ``correlations``, ``calibration``, ``amplitudes``, ``maps``
        (TSV) and ``summary`` (JSON).
    """
    from empathy_fmri.io.atomic import write_json, write_tsv

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    result = run_replicate(config, index, null=kind == "null")
    write_tsv(outputs["correlations"], result.correlations)
    write_tsv(outputs["calibration"], result.calibration)
    write_tsv(outputs["amplitudes"], result.amplitudes)
    write_tsv(outputs["maps"], result.maps)
    write_json(outputs["summary"], result.summary)


def run_replicate_comparison(
    config: Mapping[str, Any],
    correlation_paths: Sequence[str | Path],
    calibration_paths: Sequence[str | Path],
    summary_paths: Sequence[str | Path],
    comparison_path: str | Path,
    fwe_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Compare the effect replicates with the fast mode, and count FWE false positives.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    correlation_paths, calibration_paths : sequence of path
        Tables of the effect replicates (their ``independent`` correlations
        are compared with the fast mode).
    summary_paths : sequence of path
        Summaries of every replicate (effect and null).
    comparison_path : path
        Output TSV of :func:`compare_with_fast_mode`.
    fwe_path : path
        Output TSV of :func:`family_wise_error`.
    figure_paths : sequence of path
        Output files of :func:`~empathy_fmri.plotting.power.plot_replicate_comparison`.
    """
    from empathy_fmri.io.atomic import write_tsv
    from empathy_fmri.plotting.power import plot_replicate_comparison
    from empathy_fmri.plotting.style import save_figure

    correlations = pd.concat([pd.read_csv(p, sep="\t") for p in correlation_paths])
    if "selection" in correlations:
        # the fast mode models the a-priori ROIs
        correlations = correlations[correlations["selection"] == "independent"]
    calibration = pd.concat([pd.read_csv(p, sep="\t") for p in calibration_paths])
    summaries = pd.DataFrame([json.loads(Path(p).read_text()) for p in summary_paths])
    fast, _ = fast_mode_for_replicates(config, calibration, config["power"]["n_studies"])
    comparison = compare_with_fast_mode(correlations, fast)
    write_tsv(comparison_path, comparison)
    write_tsv(fwe_path, family_wise_error(summaries, config["analysis"]["alpha"]))
    logger.info(
        "%d of %d comparisons within tolerance",
        int(comparison["within_tolerance"].sum()),
        len(comparison),
    )
    save_figure(plot_replicate_comparison(correlations, fast, comparison), figure_paths)
