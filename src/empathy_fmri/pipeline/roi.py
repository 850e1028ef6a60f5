"""ROI contrasts of a study, in memory: selections, ROI-mean GLMs and the ROI table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.analysis.first_level import confound_regressors
from empathy_fmri.analysis.roi import circular_centres, extract_roi_means, roi_masks
from empathy_fmri.analysis.roi_glm import fit_roi_glm
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig

__all__ = [
    "NULL_POSITION",
    "ROI_ESTIMATES",
    "SELECTIONS",
    "masks_from_centres",
    "roi_definitions",
    "roi_glm_step",
    "roi_step",
]

#: ROI selections, in the order of the tables.
SELECTIONS = ("independent", "circular")
#: ``selection`` of the ROI-mean GLM rows fitted at null positions ("null"
#: would be read back from a TSV as a missing value).
NULL_POSITION = "null_position"
#: How a subject's ROI amplitude can be estimated (``analysis.roi_estimate``).
ROI_ESTIMATES = ("roi_mean_glm", "smoothed_average")


def roi_definitions(
    group_z: nib.Nifti1Image,
    anatomy: AnatomyConfig,
    analysis: AnalysisConfig,
    selections: Sequence[str] = SELECTIONS,
) -> pd.DataFrame:
    """Centre and size of every ROI of each selection.

    Parameters
    ----------
    group_z : nibabel.Nifti1Image
        Group z map: its grid is the ROIs' grid, and its peaks place the
        circular ROIs.
    anatomy : AnatomyConfig
        Grey-matter threshold.
    analysis : AnalysisConfig
        A-priori ROI centres and radius, ``circular_search_radius_mm``.
    selections : sequence of str
        Which of :data:`SELECTIONS` to define.

    Returns
    -------
    pandas.DataFrame
        ``roi``, ``selection``, ``x``, ``y``, ``z`` (MNI mm), ``radius_mm``, ``n_voxels``.
    """
    unknown = [s for s in selections if s not in SELECTIONS]
    if unknown:
        raise ValueError(f"selections must be among {SELECTIONS}, got {unknown}")
    grey = grey_matter_on(group_z, anatomy.grey_matter_threshold)
    chosen: dict[str, dict[str, list[float]]] = {}
    if "independent" in selections:
        chosen["independent"] = {k: [float(c) for c in v] for k, v in analysis.rois.items()}
    if "circular" in selections:
        chosen["circular"] = circular_centres(
            group_z, analysis.rois, analysis.circular_search_radius_mm, grey
        )
    rows = [
        {"roi": name, "selection": selection, "x": c[0], "y": c[1], "z": c[2],
         "radius_mm": analysis.roi_radius_mm}
        for selection, centres in chosen.items()
        for name, c in centres.items()
    ]
    table = pd.DataFrame(rows)
    masks = masks_from_centres(table, group_z, anatomy.grey_matter_threshold)
    table["n_voxels"] = [int(masks[s][r].sum()) for r, s in zip(table["roi"], table["selection"],
                                                                 strict=True)]
    return table


def masks_from_centres(
    centres: pd.DataFrame, reference_img: nib.Nifti1Image, grey_matter_threshold: float
) -> dict[str, dict[str, np.ndarray]]:
    """Boolean ROI masks of every selection, on the grid of an image.

    Parameters
    ----------
    centres : pandas.DataFrame
        From :func:`roi_definitions` (``roi_centres.tsv``).
    reference_img : nibabel.Nifti1Image
        Image in MNI space whose grid the masks take (3D or 4D).
    grey_matter_threshold : float
        Grey-matter probability threshold.

    Returns
    -------
    dict
        ``masks[selection][roi]``: spheres in grey matter; the independent ROIs
        are disjoint (a voxel goes to the nearer centre), the circular ones are
        whole spheres and may overlap.
    """
    grey = grey_matter_on(reference_img, grey_matter_threshold)
    masks = {}
    for selection, group in centres.groupby("selection", sort=False):
        centre_mm = {row.roi: [row.x, row.y, row.z] for row in group.itertuples()}
        radius = float(group["radius_mm"].iloc[0])
        masks[str(selection)] = roi_masks(
            centre_mm, radius, reference_img.affine, grey, disjoint=selection == "independent"
        )
    return masks


def roi_glm_step(
    bold_imgs: Sequence[str | nib.Nifti1Image],
    events: Sequence[pd.DataFrame],
    confounds: Sequence[pd.DataFrame] | None,
    tr_s: float,
    analysis: AnalysisConfig,
    masks: Mapping[str, Mapping[str, np.ndarray]],
    null_masks: Mapping[str, Sequence[np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Fit the first-level model to each ROI's mean unsmoothed time series, per selection.

    Parameters
    ----------
    bold_imgs : sequence of Niimg-like or path
        One unsmoothed BOLD image per run.
    events : sequence of pandas.DataFrame
        Each run's events.
    confounds : sequence of pandas.DataFrame or None
        Each run's confounds table (at least the ``analysis.confounds`` columns).
    tr_s : float
        Repetition time (s).
    analysis : AnalysisConfig
        HRF, drift, noise model and confound columns of the first level.
    masks : mapping
        ``masks[selection][roi]`` from :func:`masks_from_centres`.
    null_masks : mapping of str to sequence of numpy.ndarray, optional
        Per ROI, its shape moved to null positions
        (:func:`~empathy_fmri.evaluation.measurement.null_position_masks`);
        their fits calibrate the measurement error.

    Returns
    -------
    pandas.DataFrame
        ``roi``, ``selection`` (``null_position`` for the null positions), ``position``
        (index of the null position, -1 for the ROIs), ``effect``, ``variance``.
    """
    flat: dict[tuple[str, str, int], np.ndarray] = {
        (selection, roi, -1): mask for selection, inner in masks.items()
        for roi, mask in inner.items()
    }
    for roi, shapes in (null_masks or {}).items():
        for k, shape in enumerate(shapes):
            flat[(NULL_POSITION, roi, k)] = shape
    labels = [f"{selection}/{roi}/{k}" for selection, roi, k in flat]
    table = fit_roi_glm(
        bold_imgs, events, confound_regressors(confounds, analysis.confounds), tr_s,
        dict(zip(labels, flat.values(), strict=True)),
        hrf_model=analysis.hrf_model, drift_model=analysis.drift_model,
        high_pass_hz=analysis.high_pass_hz, noise_model=analysis.noise_model,
    )
    table.insert(1, "selection", [selection for selection, _, _ in flat])
    table.insert(2, "position", [k for _, _, k in flat])
    table["roi"] = [roi for _, roi, _ in flat]
    return table


def roi_step(
    effect_imgs: Mapping[str, str | nib.Nifti1Image],
    centres: pd.DataFrame,
    reference_img: nib.Nifti1Image,
    grey_matter_threshold: float,
    analysis: AnalysisConfig,
    roi_glm: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Every subject's needle-minus-swab amplitude in every ROI of each selection.

    Parameters
    ----------
    effect_imgs : mapping of participant_id to Niimg-like or path
        The voxelwise (smoothed) needle-minus-swab effect maps.
    centres : pandas.DataFrame
        From :func:`roi_definitions`.
    reference_img : nibabel.Nifti1Image
        An image on the effect maps' grid.
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold``.
    analysis : AnalysisConfig
        ``roi_estimate``: which estimate becomes ``needle_minus_swab``.
    roi_glm : mapping of participant_id to pandas.DataFrame, optional
        Each subject's :func:`roi_glm_step` table; required when
        ``analysis.roi_estimate`` is ``roi_mean_glm``.

    Returns
    -------
    pandas.DataFrame
        ``participant_id``, ``roi``, ``selection``, ``needle_minus_swab`` (the
        chosen estimate), ``n_voxels``, ``needle_minus_swab_smoothed`` (the
        smoothed voxel effects averaged in the ROI) and, with ``roi_glm``,
        ``needle_minus_swab_roi_glm`` and ``variance_roi_glm``.
    """
    if analysis.roi_estimate not in ROI_ESTIMATES:
        raise ValueError(
            f"'analysis.roi_estimate' must be one of {ROI_ESTIMATES}, got "
            f"{analysis.roi_estimate!r}"
        )
    if analysis.roi_estimate == "roi_mean_glm" and roi_glm is None:
        raise ValueError("roi_glm tables are needed when 'analysis.roi_estimate' is roi_mean_glm")
    masks = masks_from_centres(centres, reference_img, grey_matter_threshold)
    tables = []
    for selection, selection_masks in masks.items():
        table = extract_roi_means(effect_imgs, selection_masks, reference_img.affine)
        table.insert(2, "selection", selection)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table["needle_minus_swab_smoothed"] = table["needle_minus_swab"]
    if roi_glm is not None:
        missing = [s for s in effect_imgs if s not in roi_glm]
        if missing:
            raise ValueError(f"roi_glm: no ROI-mean GLM table for {missing}")
        fits = pd.concat(
            [fit.assign(participant_id=subject) for subject, fit in roi_glm.items()],
            ignore_index=True,
        )
        fits = fits[fits["selection"].isin(SELECTIONS)].rename(
            columns={"effect": "needle_minus_swab_roi_glm", "variance": "variance_roi_glm"}
        )
        table = table.merge(
            fits[["participant_id", "roi", "selection", "needle_minus_swab_roi_glm",
                  "variance_roi_glm"]],
            on=["participant_id", "roi", "selection"], how="left", validate="one_to_one",
        )
        if analysis.roi_estimate == "roi_mean_glm":
            table["needle_minus_swab"] = table["needle_minus_swab_roi_glm"]
    return table
