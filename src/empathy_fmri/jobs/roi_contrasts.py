"""Jobs roi_definitions, roi_glm and roi_contrasts: place ROIs, fit ROI-mean GLMs, gather."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.analysis.first_level import analysis_mask
from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig
from empathy_fmri.evaluation.measurement import (
    effect_free_positions,
    null_distance_mm,
    null_position_masks,
)
from empathy_fmri.io.atomic import write_tsv
from empathy_fmri.io.phenotype import read_phenotype, require_phenotype_rows
from empathy_fmri.jobs.first_level import read_runs
from empathy_fmri.pipeline.roi import (
    ALL,
    NULL_POSITION,
    masks_from_centres,
    roi_definitions,
    roi_glm_step,
    roi_step,
)

__all__ = [
    "run_roi_definitions",
    "run_roi_extraction",
    "run_roi_glm",
]


def run_roi_definitions(
    group_z_path: str | Path,
    effect_paths: Mapping[str, str | Path],
    phenotype_path: str | Path,
    anatomy: AnatomyConfig,
    analysis: AnalysisConfig,
    centres_path: str | Path,
) -> None:
    """Place the ROIs of every selection and write ``roi_centres.tsv``.

    Parameters
    ----------
    group_z_path : path
        Group z map (its peaks place the group_peak ROIs).
    effect_paths : mapping of participant_id to path
        Every subject's smoothed needle-minus-swab effect map (they place the
        behaviour_peak and cross_validated ROIs with the scores).
    phenotype_path : path
        ``phenotype/moral_dilemmas.tsv``, read as the brain-behaviour job reads it.
    anatomy : AnatomyConfig
        A-priori centres, radius and grey-matter threshold.
    analysis : AnalysisConfig
        ``selection_search_radius_mm``, ``scores`` and ``dilemmas``.
    centres_path : path
        Output TSV.

    Raises
    ------
    InputFileError
        If the phenotype file is unreadable or malformed
        (:func:`~empathy_fmri.io.phenotype.read_phenotype`), or has no row for a
        subject (named in the message); nothing is written then.
    """
    phenotype = read_phenotype(phenotype_path, analysis.scores, analysis.dilemmas)
    require_phenotype_rows(
        phenotype,
        list(effect_paths),
        phenotype_path,
        "placing the ROIs selected on a score (behaviour_peak, cross_validated)",
    )
    table = roi_definitions(
        nib.load(group_z_path),
        anatomy,
        analysis,
        effect_imgs=dict(effect_paths),
        phenotype=phenotype,
    )
    write_tsv(centres_path, table)


def run_roi_glm(
    participant_id: str,
    source: dict[str, str],
    centres_path: str | Path,
    group_z_path: str | Path,
    grey_matter_threshold: float,
    analysis: AnalysisConfig,
    table_path: str | Path,
    expected_bold: Sequence[str | Path] | None = None,
) -> None:
    """Fit one subject's ROI-mean GLMs (unsmoothed) for every ROI and selection.

    Parameters
    ----------
    participant_id : str
        The subject: of the ``cross_validated`` ROIs only its own are fitted.
    source : dict
        ``bids_dir``, ``derivatives``, ``task`` and ``space`` of the dataset:
        the runs are read as the first level reads them
        (:func:`empathy_fmri.jobs.first_level.read_runs`).
    centres_path : path
        ``roi_centres.tsv``.
    group_z_path : path
        The group z map: null positions may not touch its effects
        (:func:`~empathy_fmri.evaluation.measurement.effect_free_positions`).
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold``.
    analysis : AnalysisConfig
        HRF, drift, noise model, conditions and confounds.
    table_path : path
        Output TSV of :func:`~empathy_fmri.pipeline.roi.roi_glm_step`, with
        the fits at null positions that calibrate the measurement error and
        each half's fit (``split``, ``effect_half1``, ``variance_half1``,
        ``effect_half2``, ``variance_half2``) for the split-half reliability.
    expected_bold : sequence of path, optional
        The BOLD inputs the workflow gave the job.

    Raises
    ------
    InputFileError
        If an input file is unreadable or does not hold what the model needs
        (see :func:`empathy_fmri.jobs.first_level.read_runs`); nothing is written then.
    """
    runs = read_runs(participant_id, source, analysis, expected_bold)
    centres = pd.read_csv(centres_path, sep="\t")
    reference = runs.images[0]
    masks = masks_from_centres(centres, reference, grey_matter_threshold, participant_id)
    independent = centres[centres["selection"] == "independent"]
    candidates = null_position_masks(
        masks[("independent", ALL, ALL)],
        {row.roi: [row.x, row.y, row.z] for row in independent.itertuples()},
        reference.affine,
        np.asarray(analysis_mask(reference).dataobj) > 0,
        null_distance_mm(float(independent["radius_mm"].max()), analysis.smoothing_fwhm_mm, 0.0),
    )
    kept = effect_free_positions(candidates, np.asarray(nib.load(group_z_path).dataobj))
    nulls = {roi: [candidates[roi][k] for k in keep] for roi, keep in kept.items()}
    table = roi_glm_step(
        runs.bold_paths,
        runs.events,
        runs.confounds,
        runs.tr_s,
        analysis,
        masks,
        nulls,
        sample_masks=runs.sample_masks,
        halves=True,
    )
    write_tsv(table_path, table)


def run_roi_extraction(
    effect_paths: Mapping[str, str | Path],
    roi_glm_paths: Mapping[str, str | Path],
    centres_path: str | Path,
    grey_matter_threshold: float,
    analysis: AnalysisConfig,
    table_path: str | Path,
    null_path: str | Path,
) -> None:
    """Gather every subject's ROI amplitudes into ``roi_contrasts.tsv``.

    Parameters
    ----------
    effect_paths : mapping of participant_id to path
        Needle-minus-swab effect maps of the (smoothed) voxelwise first level.
    roi_glm_paths : mapping of participant_id to path
        Each subject's :func:`run_roi_glm` table.
    centres_path : path
        ``roi_centres.tsv``.
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold``.
    analysis : AnalysisConfig
        ``roi_estimate``.
    table_path : path
        Output ``roi_contrasts.tsv``.
    null_path : path
        Output TSV of every subject's ROI-mean GLMs at null positions.
    """
    centres = pd.read_csv(centres_path, sep="\t")
    reference = nib.load(next(iter(effect_paths.values())))
    roi_glm = {s: pd.read_csv(p, sep="\t") for s, p in roi_glm_paths.items()}
    table = roi_step(effect_paths, centres, reference, grey_matter_threshold, analysis, roi_glm)
    null = pd.concat(
        [
            fit[fit["selection"] == NULL_POSITION].assign(participant_id=s)
            for s, fit in roi_glm.items()
        ],
        ignore_index=True,
    )
    write_tsv(table_path, table)
    write_tsv(null_path, null[["participant_id", "roi", "position", "effect", "variance"]])
