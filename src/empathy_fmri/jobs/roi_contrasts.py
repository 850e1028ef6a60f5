"""Job roi_contrasts: every subject's mean contrast in each ROI and selection."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import nibabel as nib

from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig
from empathy_fmri.io.atomic import write_tsv
from empathy_fmri.pipeline.roi import roi_step

__all__ = [
    "run_roi_extraction",
]


def run_roi_extraction(
    effect_paths: Mapping[str, str | Path],
    group_z_path: str | Path,
    anatomy: AnatomyConfig,
    analysis: AnalysisConfig,
    table_path: str | Path,
    centres_path: str | Path,
) -> None:
    """Extract independent and circular ROI means and write them.

    Parameters
    ----------
    effect_paths : mapping of participant_id to path
        Needle-minus-swab effect maps.
    group_z_path : path
        Group z map (chooses the circular ROIs).
    anatomy : AnatomyConfig
        ROI centres, radius and grey-matter threshold.
    analysis : AnalysisConfig
        Search radius of the circular ROIs.
    table_path : path
        Output ``roi_contrasts.tsv``.
    centres_path : path
        Output TSV of the centre and size of every ROI and selection.
    """
    table, centres = roi_step(effect_paths, nib.load(group_z_path), anatomy, analysis)
    write_tsv(table_path, table)
    write_tsv(centres_path, centres)
