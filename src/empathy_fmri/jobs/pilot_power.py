"""Jobs power_pilot_measurement and power_pilot_monte_carlo: power from a real pilot dataset."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import (
    AnalysisConfig,
    AnatomyConfig,
    PilotPowerConfig,
    PowerConfig,
)
from empathy_fmri.evaluation.monte_carlo import power_rng
from empathy_fmri.evaluation.pilot_measurement import brain_measurement, score_measurement
from empathy_fmri.evaluation.pilot_power import PILOT_STREAM, pilot_power_table
from empathy_fmri.io.atomic import write_tsv
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.io.phenotype import dilemma_counts, read_phenotype
from empathy_fmri.jobs.power import calibrate_error

__all__ = [
    "run_pilot_measurement",
    "run_pilot_power",
]

logger = logging.getLogger(__name__)


def run_pilot_measurement(
    effect_paths: Sequence[str | Path],
    variance_paths: Sequence[str | Path],
    roi_table_path: str | Path,
    null_table_path: str | Path,
    phenotype_path: str | Path,
    anatomy: AnatomyConfig,
    noise_fwhm_mm: float,
    analysis: AnalysisConfig,
    pilot: PilotPowerConfig,
    seed: int,
    seed_offset: int,
    table_path: str | Path,
) -> None:
    """Estimate the reliability of every ROI amplitude and score from the pilot itself.

    Parameters
    ----------
    effect_paths, variance_paths, roi_table_path, null_table_path
        As for :func:`~empathy_fmri.jobs.power.calibrate_error`.
    phenotype_path : path
        ``phenotype/moral_dilemmas.tsv`` of the pilot dataset.
    anatomy, noise_fwhm_mm, analysis
        As for :func:`~empathy_fmri.jobs.power.calibrate_error`;
        ``analysis.scores`` names the scores, ``analysis.dilemmas`` the raw
        counts to score them from (and to bootstrap when the reliability is
        estimated).
    pilot : PilotPowerConfig
        ``score_reliability`` (None: from the dilemma counts).
    seed, seed_offset : int
        Seed of the score bootstrap.
    table_path : path
        Output TSV: one row per ROI (``kind`` ``roi``, from
        :func:`~empathy_fmri.evaluation.pilot_measurement.brain_measurement`)
        and per score (``kind`` ``score``, from
        :func:`~empathy_fmri.evaluation.pilot_measurement.score_measurement`);
        ROI-only columns are empty on score rows.

    Raises
    ------
    InputFileError
        If the phenotype file is unreadable or, when the score reliability
        is to be estimated, lacks the dilemma counts.
    """
    roi_table = pd.read_csv(roi_table_path, sep="\t")
    calibration = calibrate_error(
        effect_paths,
        variance_paths,
        roi_table_path,
        null_table_path,
        anatomy,
        noise_fwhm_mm,
        analysis,
    )
    brain = brain_measurement(roi_table, calibration)
    scores = list(analysis.scores)
    phenotype = read_phenotype(phenotype_path, scores, analysis.dilemmas)
    subjects = [str(s) for s in dict.fromkeys(roi_table["participant_id"])]
    phenotype = phenotype.loc[[s for s in subjects if s in phenotype.index]]
    rng = power_rng(seed, seed_offset, PILOT_STREAM, 0)
    # the bootstrap redraws the raw counts that 'analysis.dilemmas' names (checked
    # by read_phenotype), or else the simulator's count columns
    counts = (
        dilemma_counts(phenotype_path, phenotype, analysis.dilemmas)
        if analysis.dilemmas is not None
        else None
    )
    try:
        behaviour = score_measurement(
            phenotype, scores, pilot.score_reliability, rng, counts=counts
        )
    except ValueError as err:
        raise InputFileError(phenotype_path, str(err)) from err
    for row in pd.concat([brain, behaviour]).itertuples():
        logger.info(
            "%s: observed variance %.4g = true %.4g + error %.4g; reliability %.2f "
            "(95%% interval %.2f-%.2f from %d subjects; error from %s)",
            row.measure,
            row.observed_variance,
            row.true_variance,
            row.error_variance,
            row.reliability,
            row.reliability_ci_low,
            row.reliability_ci_high,
            row.n_subjects,
            row.error_source,
        )
    unknown = behaviour[~np.isfinite(behaviour["reliability"].to_numpy(float))]
    if len(unknown):
        raise InputFileError(
            phenotype_path,
            f"the score(s) {list(unknown['measure'])} do not vary across the pilot's "
            "participants, so their reliability is undefined",
        )
    write_tsv(table_path, pd.concat([brain, behaviour], ignore_index=True))


def run_pilot_power(
    power: PowerConfig,
    n_subjects: int,
    seed: int,
    measurement_path: str | Path,
    table_path: str | Path,
) -> None:
    """Run :func:`~empathy_fmri.evaluation.pilot_power.pilot_power_table` and write it.

    The pilot's own size (if at least 4) is always among the sample sizes.

    Parameters
    ----------
    power : PowerConfig
        Sample sizes, studies, alpha, seed offset and ``pilot.true_r``.
    n_subjects : int
        Participants of the pilot.
    seed : int
        The study's master seed.
    measurement_path : path
        ``pilot_measurement.tsv`` from :func:`run_pilot_measurement`.
    table_path : path
        Output TSV.
    """
    measurement = pd.read_csv(measurement_path, sep="\t")
    brain = measurement[measurement["kind"] == "roi"]
    behaviour = measurement[measurement["kind"] == "score"]
    scores = dict(zip(behaviour["measure"], behaviour["reliability"].astype(float), strict=True))
    own = [n_subjects] if n_subjects >= 4 else []
    sizes = sorted({*power.sample_sizes, *own})
    start = time.perf_counter()
    table = pilot_power_table(
        brain,
        scores,
        power.pilot.true_r,
        sizes,
        power.n_studies,
        power.alpha,
        seed,
        power.seed_offset,
    )
    elapsed = time.perf_counter() - start
    logger.info(
        "%d sample sizes x %d true r x %d studies in %.1f s",
        len(sizes),
        len(power.pilot.true_r),
        power.n_studies,
        elapsed,
    )
    write_tsv(table_path, table)
