"""ROI contrasts of a study, in memory: selections, ROI-mean GLMs and the ROI table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri.analysis.roi import extract_roi_means, group_peak_centres, roi_masks
from empathy_fmri.analysis.roi_glm import HALF_FIT_COLUMNS, fit_roi_glm
from empathy_fmri.analysis.roi_selection import (
    ALL,
    behaviour_peak_index,
    candidate_voxels,
    cross_validated_peak_indices,
)
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config.sections import AnalysisConfig, AnatomyConfig

__all__ = [
    "ALL",
    "HALF_COLUMNS",
    "NULL_POSITION",
    "ROI_ESTIMATES",
    "SCORE_SELECTIONS",
    "SELECTIONS",
    "Definition",
    "masks_from_centres",
    "roi_definitions",
    "roi_glm_step",
    "roi_step",
]

#: ROI selections, in the order of the tables: the a-priori spheres, the
#: sphere on the group z peak, the sphere on the voxel correlating most with a
#: score (Vul et al. 2009) and the same choice cross-fitted in two halves.
SELECTIONS = ("independent", "group_peak", "behaviour_peak", "cross_validated")
#: Selections made separately for each score (``score`` is its name).
SCORE_SELECTIONS = ("behaviour_peak", "cross_validated")
#: ``selection`` of the ROI-mean GLM rows fitted at null positions ("null"
#: would be read back from a TSV as a missing value).
NULL_POSITION = "null_position"
#: How a subject's ROI amplitude can be estimated (``analysis.roi_estimate``).
ROI_ESTIMATES = ("roi_mean_glm", "smoothed_average")

#: Columns of the ROI table holding the split-half ROI-mean GLMs, in order:
#: how the subject's data were halved, then each half's estimate and variance.
HALF_COLUMNS = (
    "split",
    "needle_minus_swab_half1",
    "variance_half1",
    "needle_minus_swab_half2",
    "variance_half2",
)

#: One set of ROIs: ``(selection, score, participant_id)``, ``ALL`` where it
#: holds for every score or subject (``cross_validated``: one per left-out subject).
Definition = tuple[str, str, str]


def _effect_array(img: str | nib.Nifti1Image, shape: tuple[int, ...]) -> np.ndarray:
    data = np.asarray(
        nib.load(img).dataobj if isinstance(img, str | Path) else img.dataobj, dtype=float
    )
    if data.shape[:3] != tuple(shape):
        raise ValueError(f"effect map has shape {data.shape}, the group map {tuple(shape)}")
    return data.reshape(shape)


def _score_selections(
    group_z: nib.Nifti1Image,
    centres_mm: Mapping[str, Sequence[float]],
    search_radius_mm: float,
    grey: np.ndarray,
    effect_imgs: Mapping[str, str | nib.Nifti1Image],
    phenotype: pd.DataFrame,
    scores: Sequence[str],
    selections: Sequence[str],
) -> list[dict[str, Any]]:
    """Rows of the behaviour_peak and cross_validated ROIs (centres only)."""
    subjects = list(effect_imgs)
    unmatched = [s for s in subjects if s not in phenotype.index]
    if unmatched:
        raise ValueError(
            f"the phenotype table has no row for {', '.join(unmatched)}: the behaviour-selected "
            "ROIs need every subject's scores (participant_id must match the BIDS labels)"
        )
    candidates = {
        name: candidate_voxels(centre, search_radius_mm, group_z.affine, grey)
        for name, centre in centres_mm.items()
    }
    reach = np.any([mask for mask, _ in candidates.values()], axis=0)
    flat = np.stack([_effect_array(effect_imgs[s], group_z.shape[:3])[reach] for s in subjects])
    rows: list[dict[str, Any]] = []
    for name, (mask, coords) in candidates.items():
        maps = flat[:, mask[reach]]
        for score in scores:
            y = phenotype.loc[subjects, score].to_numpy(float)
            finite = np.isfinite(y)
            if finite.sum() < 4:
                raise ValueError(
                    f"score '{score}': only {int(finite.sum())} subjects have a value; the "
                    "behaviour-selected ROIs need 4"
                )
            if not coords.size:
                peak = np.asarray(centres_mm[name], float)
                chosen = {s: peak for s in subjects}
            else:
                peak = coords[behaviour_peak_index(maps[finite], y[finite])]
                # a subject without this score is in no correlation; its sphere is the
                # peak of the others, which never saw it
                chosen = dict.fromkeys(subjects, peak)
                loo = cross_validated_peak_indices(maps[finite], y[finite])
                chosen.update(zip(np.asarray(subjects)[finite], coords[loo], strict=True))
            if "behaviour_peak" in selections:
                rows.append(_row(name, "behaviour_peak", score, ALL, peak))
            if "cross_validated" in selections:
                rows += [_row(name, "cross_validated", score, s, chosen[s]) for s in subjects]
    return rows


def _row(
    roi: str, selection: str, score: str, participant: str, centre: Sequence[float]
) -> dict[str, Any]:
    x, y, z = (float(c) for c in centre)
    return {
        "roi": roi,
        "selection": selection,
        "score": score,
        "participant_id": participant,
        "x": x,
        "y": y,
        "z": z,
    }


def roi_definitions(
    group_z: nib.Nifti1Image,
    anatomy: AnatomyConfig,
    analysis: AnalysisConfig,
    selections: Sequence[str] = SELECTIONS,
    effect_imgs: Mapping[str, str | nib.Nifti1Image] | None = None,
    phenotype: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Centre and size of every ROI of each selection.

    - ``independent``: the a-priori spheres;
    - ``group_peak``: a sphere on the highest group z within
      ``analysis.selection_search_radius_mm`` of each a-priori centre
      (circular for the mean effect, nearly independent of a correlation
      across subjects);
    - ``behaviour_peak``, per score: a sphere on the grey-matter voxel of the
      same search volume whose smoothed effect correlates most (highest |r|
      across subjects) with that score (circular: Vul et al. 2009);
    - ``cross_validated``, per score and subject: the same choice made on
      the other half of the subjects only (two-fold cross-fitting), see
      :mod:`empathy_fmri.analysis.roi_selection` for why not leave-one-out.

    Parameters
    ----------
    group_z : nibabel.Nifti1Image
        Group z map: its grid is the ROIs' grid, and its peaks place the
        group_peak ROIs.
    anatomy : AnatomyConfig
        Grey-matter threshold.
    analysis : AnalysisConfig
        A-priori ROI centres and radius, ``selection_search_radius_mm`` and ``scores``.
    selections : sequence of str
        Which of :data:`SELECTIONS` to define.
    effect_imgs : mapping of participant_id to Niimg-like or path, optional
        Every subject's smoothed needle-minus-swab effect map (on the group
        map's grid); needed for ``behaviour_peak`` and ``cross_validated``.
    phenotype : pandas.DataFrame, optional
        Indexed by ``participant_id``, a column per score of ``analysis.scores``
        (as :func:`empathy_fmri.io.phenotype.read_phenotype` returns it); needed
        with ``effect_imgs``. Subjects with ``n/a`` for a score are left out
        of that score's selection.

    Returns
    -------
    pandas.DataFrame
        ``roi``, ``selection``, ``score`` (:data:`ALL` unless chosen on one
        score), ``participant_id`` (the left-out subject of a
        ``cross_validated`` ROI, else :data:`ALL`), ``x``, ``y``, ``z`` (MNI
        mm), ``radius_mm``, ``n_voxels``.

    Raises
    ------
    ValueError
        If a score selection is asked for without the maps and phenotype, or
        a subject has no phenotype row (the message names it).
    """
    unknown = [s for s in selections if s not in SELECTIONS]
    if unknown:
        raise ValueError(f"selections must be among {SELECTIONS}, got {unknown}")
    grey = grey_matter_on(group_z, anatomy.grey_matter_threshold)
    centres_mm = {k: [float(c) for c in v] for k, v in analysis.rois.items()}
    rows: list[dict[str, Any]] = []
    if "independent" in selections:
        rows += [_row(name, "independent", ALL, ALL, c) for name, c in centres_mm.items()]
    if "group_peak" in selections:
        peaks = group_peak_centres(group_z, centres_mm, analysis.selection_search_radius_mm, grey)
        rows += [_row(name, "group_peak", ALL, ALL, c) for name, c in peaks.items()]
    if any(s in SCORE_SELECTIONS for s in selections):
        if effect_imgs is None or phenotype is None:
            raise ValueError(
                f"the selections {SCORE_SELECTIONS} need every subject's effect map and the "
                "phenotype table"
            )
        rows += _score_selections(
            group_z,
            centres_mm,
            analysis.selection_search_radius_mm,
            grey,
            effect_imgs,
            phenotype,
            analysis.scores,
            selections,
        )
    table = pd.DataFrame(rows)
    table["radius_mm"] = analysis.roi_radius_mm
    masks = masks_from_centres(table, group_z, anatomy.grey_matter_threshold)
    table["n_voxels"] = [
        int(masks[(row.selection, row.score, row.participant_id)][row.roi].sum())
        for row in table.itertuples()
    ]
    return table


def masks_from_centres(
    centres: pd.DataFrame,
    reference_img: nib.Nifti1Image,
    grey_matter_threshold: float,
    participant_id: str | None = None,
) -> dict[Definition, dict[str, np.ndarray]]:
    """Boolean ROI masks of every ROI definition, on the grid of an image.

    Parameters
    ----------
    centres : pandas.DataFrame
        From :func:`roi_definitions` (``roi_centres.tsv``; without ``score``
        or ``participant_id`` columns every row holds for all).
    reference_img : nibabel.Nifti1Image
        Image in MNI space whose grid the masks take (3D or 4D).
    grey_matter_threshold : float
        Grey-matter probability threshold.
    participant_id : str, optional
        Only the definitions that hold for this subject (its own
        ``cross_validated`` ROIs and every definition for all subjects).

    Returns
    -------
    dict
        ``masks[(selection, score, participant_id)][roi]``: spheres in grey
        matter; the independent ROIs are disjoint (a voxel goes to the nearer
        centre), the data-selected ones are whole spheres and may overlap.
    """
    centres = centres.copy()
    for column in ("score", "participant_id"):
        if column not in centres:
            centres[column] = ALL
        centres[column] = centres[column].astype(str)
    if participant_id is not None:
        centres = centres[centres["participant_id"].isin([ALL, participant_id])]
    grey = grey_matter_on(reference_img, grey_matter_threshold)
    masks = {}
    for key, group in centres.groupby(["selection", "score", "participant_id"], sort=False):
        centre_mm = {row.roi: [row.x, row.y, row.z] for row in group.itertuples()}
        radius = float(group["radius_mm"].iloc[0])
        selection, score, participant = (str(k) for k in key)
        masks[(selection, score, participant)] = roi_masks(
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
    sample_masks: Sequence[np.ndarray | None] | None = None,
    halves: bool = False,
) -> pd.DataFrame:
    """Fit the first-level model to each ROI's mean unsmoothed time series, per selection.

    Parameters
    ----------
    bold_imgs : sequence of Niimg-like or path
        One unsmoothed BOLD image per run.
    events : sequence of pandas.DataFrame
        Each run's events.
    confounds : sequence of pandas.DataFrame or None
        Each run's confound regressors, as selected by ``analysis.confounds``.
    tr_s : float
        Repetition time (s).
    analysis : AnalysisConfig
        HRF, drift, noise model and confound columns of the first level.
    masks : mapping
        ``masks[(selection, score, participant_id)][roi]`` from
        :func:`masks_from_centres` (for one subject: its ``participant_id``).
    null_masks : mapping of str to sequence of numpy.ndarray, optional
        Per ROI, its shape moved to null positions
        (:func:`~empathy_fmri.evaluation.measurement.null_position_masks`);
        their fits calibrate the measurement error.
    sample_masks : sequence of numpy.ndarray or None, optional
        Per run, the volumes to fit (None: all), from ``load_confounds``.
    halves : bool
        Also fit each half of the data
        (:func:`~empathy_fmri.analysis.roi_glm.split_halves`), for the
        split-half reliability (two more fits: about 0.8 s of CPU per
        subject, which the replicate studies do not spend).

    Returns
    -------
    pandas.DataFrame
        ``roi``, ``selection`` (``null_position`` for the null positions),
        ``score`` (:data:`ALL` unless the ROI was chosen on one score),
        ``position`` (index of the null position, -1 for the ROIs), ``effect``,
        ``variance``; with ``halves``, ``split``, ``effect_half1``,
        ``variance_half1``, ``effect_half2`` and ``variance_half2``
        (:data:`~empathy_fmri.analysis.roi_glm.HALF_FIT_COLUMNS`).
    """
    flat: dict[tuple[str, str, str, int], np.ndarray] = {
        (selection, score, roi, -1): mask
        for (selection, score, _), inner in masks.items()
        for roi, mask in inner.items()
    }
    for roi, shapes in (null_masks or {}).items():
        for k, shape in enumerate(shapes):
            flat[(NULL_POSITION, ALL, roi, k)] = shape
    labels = [f"{selection}/{score}/{roi}/{k}" for selection, score, roi, k in flat]
    table = fit_roi_glm(
        bold_imgs,
        events,
        confounds,
        tr_s,
        dict(zip(labels, flat.values(), strict=True)),
        hrf_model=analysis.hrf_model,
        drift_model=analysis.drift_model,
        high_pass_hz=analysis.high_pass_hz,
        noise_model=analysis.noise_model,
        sample_masks=sample_masks,
        halves=halves,
    )
    table.insert(1, "selection", [selection for selection, _, _, _ in flat])
    table.insert(2, "score", [score for _, score, _, _ in flat])
    table.insert(3, "position", [k for _, _, _, k in flat])
    table["roi"] = [roi for _, _, roi, _ in flat]
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
        ``participant_id``, ``roi``, ``selection``, ``score`` (:data:`ALL`
        unless the ROI was chosen on one score; a ``cross_validated`` row is
        the subject's own cross-fitted ROI), ``needle_minus_swab`` (the
        chosen estimate), ``n_voxels``, ``needle_minus_swab_smoothed`` (the
        smoothed voxel effects averaged in the ROI) and, with ``roi_glm``,
        ``needle_minus_swab_roi_glm`` and ``variance_roi_glm``.
    """
    if analysis.roi_estimate not in ROI_ESTIMATES:
        raise ValueError(
            f"'analysis.roi_estimate' must be one of {ROI_ESTIMATES}, got {analysis.roi_estimate!r}"
        )
    if analysis.roi_estimate == "roi_mean_glm" and roi_glm is None:
        raise ValueError("roi_glm tables are needed when 'analysis.roi_estimate' is roi_mean_glm")
    masks = masks_from_centres(centres, reference_img, grey_matter_threshold)
    loaded = {s: _in_memory(img) for s, img in effect_imgs.items()}
    tables = []
    for (selection, score, participant), definition_masks in masks.items():
        if participant == ALL:
            subjects = loaded
        elif participant in loaded:
            subjects = {participant: loaded[participant]}
        else:
            continue
        table = extract_roi_means(subjects, definition_masks, reference_img.affine)
        table.insert(2, "selection", selection)
        table.insert(3, "score", score)
        tables.append(table)
    table = _in_table_order(pd.concat(tables, ignore_index=True), list(loaded), centres)
    table["needle_minus_swab_smoothed"] = table["needle_minus_swab"]
    if roi_glm is not None:
        missing = [s for s in effect_imgs if s not in roi_glm]
        if missing:
            raise ValueError(f"roi_glm: no ROI-mean GLM table for {missing}")
        fits = pd.concat(
            [fit.assign(participant_id=subject) for subject, fit in roi_glm.items()],
            ignore_index=True,
        )
        if "score" not in fits:
            fits["score"] = ALL
        fits = fits[fits["selection"].isin(SELECTIONS)].rename(
            columns={
                "effect": "needle_minus_swab_roi_glm",
                "variance": "variance_roi_glm",
                **dict(zip(HALF_FIT_COLUMNS, HALF_COLUMNS, strict=True)),
            }
        )
        carried = ["needle_minus_swab_roi_glm", "variance_roi_glm"]
        if set(HALF_COLUMNS) <= set(fits.columns):
            carried += list(HALF_COLUMNS)
        table = table.merge(
            fits[["participant_id", "roi", "selection", "score", *carried]],
            on=["participant_id", "roi", "selection", "score"],
            how="left",
            validate="one_to_one",
        )
        if analysis.roi_estimate == "roi_mean_glm":
            table["needle_minus_swab"] = table["needle_minus_swab_roi_glm"]
    return table


def _in_memory(img: str | Path | nib.Nifti1Image) -> nib.Nifti1Image:
    """An effect map held in memory, so that many ROIs read it once."""
    img = nib.load(img) if isinstance(img, str | Path) else img
    return nib.Nifti1Image(np.asarray(img.dataobj), img.affine, img.header)


def _in_table_order(
    table: pd.DataFrame, subjects: Sequence[str], centres: pd.DataFrame
) -> pd.DataFrame:
    """Rows by selection, score, ROI (config order), then subject."""
    rois = list(dict.fromkeys(centres["roi"]))
    scores = list(dict.fromkeys(table["score"]))
    keys = pd.DataFrame(
        {
            "selection": table["selection"].map({s: k for k, s in enumerate(SELECTIONS)}),
            "score": table["score"].map({s: k for k, s in enumerate(scores)}),
            "roi": table["roi"].map({r: k for k, r in enumerate(rois)}),
            "subject": table["participant_id"].map({s: k for k, s in enumerate(subjects)}),
        }
    )
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return table.loc[order].reset_index(drop=True)
