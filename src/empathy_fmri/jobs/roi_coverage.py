"""Job roi_coverage: the a-priori ROIs on a dataset's own grid, inside its brain masks.

The configuration check before any job measures the ROIs on the simulation
grid (``anatomy.voxel_size_mm``). A dataset from elsewhere
(``analysis.bids_dir``) has its own grid (fMRIPrep's 2 mm, a lab's 2.5 mm)
and its own brain masks, so there the ROIs are measured again on what the
analysis will read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.filebasedimages import ImageFileError

from empathy_fmri.analysis.first_level import analysis_mask
from empathy_fmri.anatomy.placement import roi_voxel_counts
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_tsv
from empathy_fmri.io.errors import InputFileError

__all__ = [
    "run_roi_coverage",
]

logger = logging.getLogger(__name__)


def _mask_of(path: str | Path, is_bold: bool) -> nib.Nifti1Image:
    """A run's brain mask, or for a run without one the MNI152 mask on its BOLD grid."""
    try:
        img = nib.load(path)
    except (ImageFileError, OSError, EOFError, ValueError) as err:
        kind = "a 4D NIfTI BOLD run" if is_bold else "a 3D NIfTI brain mask"
        raise InputFileError(path, f"cannot be read as {kind} ({type(err).__name__})") from err
    shape = img.shape
    if is_bold:
        # the first level's own mask on this grid; the header alone gives the grid
        reference = nib.Nifti1Image(np.zeros(shape[:3], np.uint8), img.affine)
        return analysis_mask(reference)
    if len(shape) == 4 and shape[3] == 1:
        img = img.slicer[..., 0]
    elif len(shape) != 3:
        raise InputFileError(path, f"has shape {shape}; expected a 3D brain mask")
    try:
        return nib.Nifti1Image((np.asarray(img.dataobj) > 0).astype(np.uint8), img.affine)
    except (OSError, EOFError, ValueError) as err:
        raise InputFileError(
            path,
            f"cannot be read to the end ({type(err).__name__}); expected a 3D NIfTI brain mask",
        ) from err


def run_roi_coverage(
    mask_paths: Sequence[str | Path],
    bold_paths: Sequence[str | Path],
    analysis: AnalysisConfig,
    grey_matter_threshold: float,
    table_path: str | Path,
) -> pd.DataFrame:
    """Count each a-priori ROI's voxels inside every run's brain mask; refuse too few.

    Parameters
    ----------
    mask_paths : sequence of path
        The derivative's brain mask of every run analysed
        (``*_desc-brain_mask.nii.gz``).
    bold_paths : sequence of path
        The preprocessed BOLD of the runs without a mask: there nilearn's
        MNI152 brain mask on the BOLD grid stands for it, as in the first level.
    analysis : AnalysisConfig
        ``rois``, ``roi_radius_mm`` and ``min_roi_voxels``.
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold``.
    table_path : path
        Output TSV: ``file``, ``voxel_size_mm``, ``roi``, ``n_voxels`` (grey
        matter inside the mask, see
        :func:`~empathy_fmri.anatomy.placement.roi_voxel_counts`).

    Returns
    -------
    pandas.DataFrame
        The table written.

    Raises
    ------
    InputFileError
        If a file cannot be read, or an ROI holds fewer than
        ``analysis.min_roi_voxels`` voxels inside some mask: the message
        names each such ROI, its fewest voxels and the file with that count
        (and how many files hold too few); nothing is written then.
    """
    centres = {name: [float(c) for c in centre] for name, centre in analysis.rois.items()}
    grey_by_grid: dict[tuple, np.ndarray] = {}
    rows = []
    files = [(p, False) for p in mask_paths] + [(p, True) for p in bold_paths]
    for path, is_bold in files:
        mask = _mask_of(path, is_bold)
        grid = (mask.shape, np.round(mask.affine, 4).tobytes())
        if grid not in grey_by_grid:
            grey_by_grid[grid] = grey_matter_on(mask, grey_matter_threshold)
        counts = roi_voxel_counts(
            centres, analysis.roi_radius_mm, mask, grey_matter_threshold, grey=grey_by_grid[grid]
        )
        zooms = "x".join(f"{z:g}" for z in mask.header.get_zooms()[:3])
        rows += [
            {"file": str(path), "voxel_size_mm": zooms, "roi": roi, "n_voxels": n}
            for roi, n in counts.items()
        ]
    table = pd.DataFrame(rows, columns=["file", "voxel_size_mm", "roi", "n_voxels"])
    problems, first = [], None
    for roi in centres:
        chosen = table[table["roi"] == roi]
        if chosen.empty:
            continue
        worst = chosen.loc[chosen["n_voxels"].idxmin()]
        logger.info(
            "ROI %s: %d-%d voxels inside the %d brain mask(s)",
            roi,
            chosen["n_voxels"].min(),
            chosen["n_voxels"].max(),
            len(chosen),
        )
        too_few = int((chosen["n_voxels"] < analysis.min_roi_voxels).sum())
        if too_few:
            first = first or worst["file"]
            problems.append(
                f"ROI '{roi}' ('analysis.rois.{roi}' {centres[roi]}) holds "
                f"{int(worst['n_voxels'])} grey-matter voxel(s) inside the brain mask "
                f"'{worst['file']}' on its {worst['voxel_size_mm']} mm grid at "
                f"'analysis.roi_radius_mm' = {analysis.roi_radius_mm} (at least "
                f"'analysis.min_roi_voxels' = {analysis.min_roi_voxels} needed; {too_few} of "
                f"{len(chosen)} masks hold fewer)"
            )
    if problems:
        raise InputFileError(
            first,
            "; ".join(problems) + ". Move the centre into grey matter the data cover, widen "
            "'analysis.roi_radius_mm', or leave out a participant whose mask misses it "
            "('analysis.participants.exclude', with the reason)",
        )
    write_tsv(table_path, table)
    return table
