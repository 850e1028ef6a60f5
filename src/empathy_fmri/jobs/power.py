"""Jobs power_measurement and power_monte_carlo: calibrate the measurement, run the Monte Carlo."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import pandas as pd

from empathy_fmri.analysis.roi import roi_masks
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config.sections import (
    AnalysisConfig,
    AnatomyConfig,
    NoiseConfig,
    RegionsConfig,
    SignalConfig,
)
from empathy_fmri.evaluation.measurement import (
    MeasurementModel,
    add_run_variation,
    calibrate_measurement,
    calibrate_roi_glm,
    null_distance_mm,
    signal_gain,
)
from empathy_fmri.evaluation.power_inputs import PowerInputs
from empathy_fmri.io.atomic import write_text, write_tsv

__all__ = [
    "calibrate_error",
    "run_measurement_model",
    "run_power",
]

logger = logging.getLogger(__name__)


def calibrate_error(
    effect_paths: Sequence[str | Path],
    variance_paths: Sequence[str | Path],
    roi_table_path: str | Path,
    null_table_path: str | Path,
    anatomy: AnatomyConfig,
    noise_fwhm_mm: float,
    analysis: AnalysisConfig,
) -> pd.DataFrame:
    """Measurement-error variance of each a-priori ROI amplitude, from the first level alone.

    The part of the measurement model that needs no truth: the first-level
    variances of the estimate ``analysis.roi_estimate`` names, scaled by the
    factor measured at null positions
    (:func:`~empathy_fmri.evaluation.measurement.calibrate_roi_glm` or
    :func:`~empathy_fmri.evaluation.measurement.calibrate_measurement`).

    Parameters
    ----------
    effect_paths, variance_paths : sequence of path
        Needle-minus-swab effect and variance maps of every subject (used
        when ``analysis.roi_estimate`` is ``smoothed_average``).
    roi_table_path : path
        ``roi_contrasts.tsv``.
    null_table_path : path
        ROI-mean GLMs at null positions (``roi_glm_null_positions.tsv``).
    anatomy : AnatomyConfig
        Grid and grey-matter threshold.
    noise_fwhm_mm : float
        Smoothness of the noise (``noise.fwhm_mm``; on a real dataset the
        smoothness a lab measures on its data), which keeps the null
        positions of ``smoothed_average`` away from the ROIs.
    analysis : AnalysisConfig
        The analysis ROIs, first-level smoothing and ``roi_estimate``.

    Returns
    -------
    pandas.DataFrame
        One row per ROI, the columns of
        :func:`~empathy_fmri.evaluation.measurement.calibrate_measurement`
        and ``estimate``.
    """
    if analysis.roi_estimate == "roi_mean_glm":
        return calibrate_roi_glm(
            pd.read_csv(roi_table_path, sep="\t"), pd.read_csv(null_table_path, sep="\t")
        )
    reference = nib.load(effect_paths[0])
    grey = grey_matter_on(reference, anatomy.grey_matter_threshold)
    masks = roi_masks(analysis.rois, analysis.roi_radius_mm, reference.affine, grey)
    table = calibrate_measurement(
        effect_paths,
        variance_paths,
        masks,
        analysis.rois,
        reference.affine,
        min_distance_mm=null_distance_mm(
            analysis.roi_radius_mm, analysis.smoothing_fwhm_mm, noise_fwhm_mm
        ),
    )
    table["estimate"] = analysis.roi_estimate
    return table


def run_measurement_model(
    effect_paths: Sequence[str | Path],
    variance_paths: Sequence[str | Path],
    roi_table_path: str | Path,
    null_table_path: str | Path,
    anatomy: AnatomyConfig,
    regions: RegionsConfig,
    signal: SignalConfig,
    noise: NoiseConfig,
    analysis: AnalysisConfig,
    table_path: str | Path,
    n_runs: int = 1,
) -> None:
    """Calibrate the fast Monte Carlo's measurement model from a run's first level.

    Parameters
    ----------
    effect_paths, variance_paths : sequence of path
        Needle-minus-swab effect and variance maps of every subject (used
        when ``analysis.roi_estimate`` is ``smoothed_average``).
    roi_table_path : path
        ``roi_contrasts.tsv`` (its ROI-mean GLM variances are used when
        ``analysis.roi_estimate`` is ``roi_mean_glm``).
    null_table_path : path
        ROI-mean GLMs at null positions (``roi_glm_null_positions.tsv``), which
        calibrate those variances.
    anatomy : AnatomyConfig
        Grid and grey-matter threshold.
    regions : RegionsConfig
        The simulated regions, for the gain of each analysis ROI.
    signal : SignalConfig
        Between-subject SDs (for the reliability) and baselines (for the gain).
    noise : NoiseConfig
        Noise smoothness (keeps null positions away from the ROIs).
    analysis : AnalysisConfig
        The analysis ROIs, first-level smoothing and ``roi_estimate``.
    table_path : path
        Output TSV: the columns of
        :func:`~empathy_fmri.evaluation.measurement.calibrate_measurement` plus
        ``gain``, ``noise_error_sd_psc``, ``run_error_sd_psc`` (see
        :func:`~empathy_fmri.evaluation.measurement.add_run_variation`),
        ``sd_psc`` and ``reliability_brain``.
    n_runs : int
        Runs per subject (the run-to-run amplitude variation averages over them).
    """
    table = calibrate_error(
        effect_paths,
        variance_paths,
        roi_table_path,
        null_table_path,
        anatomy,
        noise.fwhm_mm,
        analysis,
    )
    gain = signal_gain(anatomy, regions, signal, analysis)
    # An analysis ROI without a simulated region of its name measures no signal.
    sd = {name: signal.rois[name].sd_psc if name in signal.rois else 0.0 for name in table["roi"]}
    table["gain"] = [gain.get(name, 0.0) for name in table["roi"]]
    table = add_run_variation(table, signal.run_sd_psc, n_runs)
    table["sd_psc"] = table["roi"].map(sd)
    model = MeasurementModel.from_table(table)
    table["reliability_brain"] = table["roi"].map(model.reliability(sd))
    for row in table.itertuples():
        logger.info(
            "%s: %d voxels, c = %.3f (%.1f effective voxels), error SD %.3f psc, gain %.2f",
            row.roi,
            row.n_voxels,
            row.correlation_factor,
            row.effective_voxels,
            row.error_sd_psc,
            row.gain,
        )
    write_tsv(table_path, table)


def run_power(
    settings: Mapping[str, Any],
    measurement_path: str | Path,
    table_path: str | Path,
    settings_path: str | Path,
) -> None:
    """Run :func:`~empathy_fmri.evaluation.monte_carlo.power_table`; write it and its inputs.

    The study's own ``n_subjects`` (if at least 4) is always among the sample
    sizes, so that validation can say how often a study of this size detects
    each effect. The settings are written beside the table, so that
    :meth:`~empathy_fmri.evaluation.power_inputs.PowerInputs.read` (the
    notebooks) recomputes any row of it exactly.

    Parameters
    ----------
    settings : mapping
        :func:`~empathy_fmri.evaluation.power_inputs.power_settings` of the
        config: seed, signal, ROIs, behaviour, scores, power section, study N.
    measurement_path : path
        ``measurement_model.tsv`` from :func:`run_measurement_model`.
    table_path : path
        Output TSV.
    settings_path : path
        Output JSON of ``settings``.
    """
    measurement = MeasurementModel.from_table(pd.read_csv(measurement_path, sep="\t"))
    inputs = PowerInputs.from_settings(settings, measurement)
    start = time.perf_counter()
    table = inputs.table()
    elapsed = time.perf_counter() - start
    logger.info(
        "%d sample sizes x %d studies in %.1f s (%.0f studies/s)",
        len(inputs.sample_sizes),
        inputs.power.n_studies,
        elapsed,
        len(inputs.sample_sizes) * inputs.power.n_studies / elapsed,
    )
    write_tsv(table_path, table)
    write_text(settings_path, json.dumps(dict(settings), indent=1) + "\n")
