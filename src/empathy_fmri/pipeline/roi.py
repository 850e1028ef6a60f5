"""ROI contrasts of a study, in memory: independent and circular selections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import pandas as pd

from empathy_fmri.analysis.roi import circular_centres, extract_roi_means, roi_masks
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig

__all__ = [
    "SELECTIONS",
    "roi_step",
]

#: ROI selections, in the order of the tables.
SELECTIONS = ("independent", "circular")


def roi_step(
    effect_imgs: Mapping[str, str | nib.Nifti1Image],
    group_z: nib.Nifti1Image,
    anatomy: AnatomyConfig,
    analysis: AnalysisConfig,
    selections: Sequence[str] = SELECTIONS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean needle-minus-swab effect of every subject in every ROI of each selection.

    Parameters
    ----------
    effect_imgs : mapping of participant_id to Niimg-like or path
        Needle-minus-swab effect maps.
    group_z : nibabel.Nifti1Image
        Group z map: its grid is the ROIs' grid, and its peaks place the
        circular ROIs.
    anatomy : AnatomyConfig
        A-priori ROI centres, radius and grey-matter threshold.
    analysis : AnalysisConfig
        ``circular_search_radius_mm``.
    selections : sequence of str
        Which of :data:`SELECTIONS` to extract.

    Returns
    -------
    table : pandas.DataFrame
        ``participant_id``, ``roi``, ``selection``, ``needle_minus_swab``, ``n_voxels``.
    centres : pandas.DataFrame
        Centre, radius and voxel count of every ROI and selection.
    """
    unknown = [s for s in selections if s not in SELECTIONS]
    if unknown:
        raise ValueError(f"selections must be among {SELECTIONS}, got {unknown}")
    grey = grey_matter_on(group_z, anatomy.grey_matter_threshold)
    radius = anatomy.roi_radius_mm
    chosen = {}
    if "independent" in selections:
        chosen["independent"] = {k: [float(c) for c in v] for k, v in anatomy.rois.items()}
    if "circular" in selections:
        chosen["circular"] = circular_centres(
            group_z, anatomy.rois, analysis.circular_search_radius_mm, grey
        )
    tables, centre_rows = [], []
    for selection, selection_centres in chosen.items():
        masks = roi_masks(
            selection_centres, radius, group_z.affine, grey, disjoint=selection == "independent"
        )
        table = extract_roi_means(effect_imgs, masks, group_z.affine)
        table.insert(2, "selection", selection)
        tables.append(table)
        centre_rows += [
            {"roi": name, "selection": selection, "x": c[0], "y": c[1], "z": c[2],
             "radius_mm": radius, "n_voxels": int(masks[name].sum())}
            for name, c in selection_centres.items()
        ]
    return pd.concat(tables, ignore_index=True), pd.DataFrame(centre_rows)
