"""Jobs roi_definitions, roi_glm and roi_contrasts: place ROIs, fit ROI-mean GLMs, gather."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import pandas as pd

from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig
from empathy_fmri.io.atomic import write_tsv
from empathy_fmri.io.bids import read_confounds, read_events
from empathy_fmri.pipeline.roi import masks_from_centres, roi_definitions, roi_glm_step, roi_step

__all__ = [
    "run_roi_definitions",
    "run_roi_extraction",
    "run_roi_glm",
]


def run_roi_definitions(
    group_z_path: str | Path, anatomy: AnatomyConfig, analysis: AnalysisConfig,
    centres_path: str | Path,
) -> None:
    """Place the ROIs of every selection and write ``roi_centres.tsv``.

    Parameters
    ----------
    group_z_path : path
        Group z map (its peaks place the circular ROIs).
    anatomy : AnatomyConfig
        A-priori centres, radius and grey-matter threshold.
    analysis : AnalysisConfig
        Search radius of the circular ROIs.
    centres_path : path
        Output TSV.
    """
    write_tsv(centres_path, roi_definitions(nib.load(group_z_path), anatomy, analysis))


def run_roi_glm(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    confounds_paths: Sequence[str | Path],
    centres_path: str | Path,
    grey_matter_threshold: float,
    analysis: AnalysisConfig,
    tr_s: float,
    table_path: str | Path,
) -> None:
    """Fit one subject's ROI-mean GLMs (unsmoothed) for every ROI and selection.

    Parameters
    ----------
    bold_paths, events_paths, confounds_paths : sequence of path
        One per run (``confounds_paths`` empty without confounds).
    centres_path : path
        ``roi_centres.tsv``.
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold``.
    analysis : AnalysisConfig
        HRF, drift, noise model and confound columns.
    tr_s : float
        Repetition time (s).
    table_path : path
        Output TSV: ``roi``, ``selection``, ``effect``, ``variance``.
    """
    centres = pd.read_csv(centres_path, sep="\t")
    masks = masks_from_centres(centres, nib.load(bold_paths[0]), grey_matter_threshold)
    events = [read_events(path) for path in events_paths]
    columns = list(analysis.confounds)
    confounds = [read_confounds(path, columns) for path in confounds_paths] if columns else None
    write_tsv(table_path, roi_glm_step(bold_paths, events, confounds, tr_s, analysis, masks))


def run_roi_extraction(
    effect_paths: Mapping[str, str | Path],
    roi_glm_paths: Mapping[str, str | Path],
    centres_path: str | Path,
    grey_matter_threshold: float,
    analysis: AnalysisConfig,
    table_path: str | Path,
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
    """
    centres = pd.read_csv(centres_path, sep="\t")
    reference = nib.load(next(iter(effect_paths.values())))
    roi_glm = {s: pd.read_csv(p, sep="\t") for s, p in roi_glm_paths.items()}
    table = roi_step(effect_paths, centres, reference, grey_matter_threshold, analysis, roi_glm)
    write_tsv(table_path, table)
