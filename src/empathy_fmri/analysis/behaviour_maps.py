"""Whole-brain brain-behaviour maps: second-level regression of effect maps on a score.

The analysis the UCLA study ran (Christov-Moore, Conway & Iacoboni 2017): each
subject's needle-minus-swab effect map is regressed voxel by voxel on a
behavioural score, with the design ``intercept + demeaned score``. Its
t statistic gives the z map, and Pearson's r of effect and score at every
voxel, since for one regressor besides the intercept

    r = t / sqrt(t^2 + df),   df = n - 2,

exactly (the t test of a simple regression slope is the t test of r).
Family-wise error is controlled by nilearn's max-type permutation test
(the score is permuted across subjects), the false discovery rate by
Benjamini-Hochberg on the z map; both two-sided, since a correlation of
either sign is a finding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.glm import threshold_stats_img
from nilearn.glm.second_level import SecondLevelModel, non_parametric_inference
from nilearn.reporting import get_clusters_table

__all__ = [
    "CLUSTER_COLUMNS",
    "MIN_SUBJECTS",
    "BehaviourMapResult",
    "behaviour_cluster_table",
    "fit_behaviour_map",
    "r_from_t",
    "score_design",
]

logger = logging.getLogger(__name__)

#: Fewest subjects of a regression map (df = n - 2 must leave a residual to test).
MIN_SUBJECTS = 4

#: Columns of :func:`behaviour_cluster_table`, in order.
CLUSTER_COLUMNS = (
    "cluster_id",
    "x_mm",
    "y_mm",
    "z_mm",
    "size_voxels",
    "size_mm3",
    "peak_z",
    "peak_r",
    "nearest_roi",
    "distance_mm",
)


@dataclass
class BehaviourMapResult:
    """Maps of one score's whole-brain regression.

    Attributes
    ----------
    score : str
        The score (design column) tested.
    n : int
        Subjects in the regression.
    z : nibabel.Nifti1Image
        z map of the score's slope (positive: a larger effect with a higher score).
    t : nibabel.Nifti1Image
        t map of the slope, ``n - 2`` degrees of freedom.
    r : nibabel.Nifti1Image
        Pearson r of effect and score at every voxel, from ``t``.
    z_fdr : nibabel.Nifti1Image
        ``z`` where it passes two-sided FDR at ``alpha``, zero elsewhere.
    fdr_threshold : float
        The ``|z|`` threshold FDR chose (``inf`` when nothing passes).
    logp_fwe : nibabel.Nifti1Image
        -log10 of the two-sided, max-type permutation FWE p value.
    z_fwe : nibabel.Nifti1Image
        ``z`` where the FWE p value is below ``alpha``, zero elsewhere.
    """

    score: str
    n: int
    z: nib.Nifti1Image
    t: nib.Nifti1Image
    r: nib.Nifti1Image
    z_fdr: nib.Nifti1Image
    fdr_threshold: float
    logp_fwe: nib.Nifti1Image
    z_fwe: nib.Nifti1Image


def score_design(values: pd.Series, score: str) -> pd.DataFrame:
    """Second-level design of one score: ``intercept`` and the demeaned score.

    Parameters
    ----------
    values : pandas.Series
        The score of each subject, in the order of the effect maps.
    score : str
        Its name, the design column (and the contrast tested).

    Returns
    -------
    pandas.DataFrame
        Columns ``intercept`` (ones) and ``score`` (mean zero), the index of
        ``values``.

    Raises
    ------
    ValueError
        Naming the score, if a value is missing or not finite, or if the
        score is the same for every subject (its slope is then undefined).
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        who = ", ".join(str(s) for s in values.index[bad][:5])
        raise ValueError(f"score '{score}' is missing or not a finite number for {who}")
    if numbers.size and np.ptp(numbers) == 0:
        raise ValueError(
            f"score '{score}' is {numbers[0]:g} for all {numbers.size} subjects; a constant "
            "score has no slope to regress the maps on"
        )
    return pd.DataFrame(
        {"intercept": np.ones(numbers.size), score: numbers - numbers.mean()},
        index=values.index,
    )


def r_from_t(t: np.ndarray, df: int) -> np.ndarray:
    """Pearson r from the t statistic of a simple regression slope.

    Parameters
    ----------
    t : numpy.ndarray
        t values of the slope.
    df : int
        Residual degrees of freedom, ``n - 2``.

    Returns
    -------
    numpy.ndarray
        ``t / sqrt(t^2 + df)``, in [-1, 1], the sign of ``t``.
    """
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df}")
    t = np.asarray(t, dtype=float)
    return t / np.sqrt(t * t + df)


def _float32(img: nib.Nifti1Image) -> nib.Nifti1Image:
    """The image as float32 (what is written), NaN set to 0."""
    data = np.nan_to_num(np.asarray(img.dataobj, dtype=float)).astype(np.float32)
    return nib.Nifti1Image(data, img.affine)


def fit_behaviour_map(
    effect_imgs: Sequence[str | Path | nib.Nifti1Image],
    design: pd.DataFrame,
    mask_img: nib.Nifti1Image,
    *,
    alpha: float = 0.05,
    n_permutations: int = 1000,
    random_state: int = 0,
    n_jobs: int = 1,
) -> BehaviourMapResult:
    """Regress the effect maps on a score: z, r, FDR and permutation-FWE maps.

    Parameters
    ----------
    effect_imgs : sequence of Niimg-like
        One first-level effect map per subject, in the rows' order of ``design``.
    design : pandas.DataFrame
        From :func:`score_design`: ``intercept`` and one score column.
    mask_img : Niimg-like
        Analysis mask.
    alpha : float
        Two-sided level of the FDR and the FWE map.
    n_permutations : int
        Permutations of the score for the max-type FWE p values (at least 1).
    random_state : int
        Seed of the permutations.
    n_jobs : int
        Parallel jobs for the permutations (nilearn draws one seed per job,
        so the FWE map depends on it).

    Returns
    -------
    BehaviourMapResult
    """
    scores = [c for c in design.columns if c != "intercept"]
    if "intercept" not in design.columns or len(scores) != 1:
        raise ValueError(
            f"design must have the columns 'intercept' and one score, got {list(design.columns)}"
        )
    (score,) = scores
    n = len(effect_imgs)
    if n != len(design):
        raise ValueError(f"{n} effect maps but {len(design)} design rows")
    if n < MIN_SUBJECTS:
        raise ValueError(f"a regression map needs at least {MIN_SUBJECTS} subjects, got {n}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    design = design.reset_index(drop=True)
    model = SecondLevelModel(mask_img=mask_img, smoothing_fwhm=None, minimize_memory=True)
    model.fit(list(effect_imgs), design_matrix=design)
    outputs = model.compute_contrast(score, output_type="all")
    z_map = _float32(outputs["z_score"])
    t_map = _float32(outputs["stat"])
    r_map = nib.Nifti1Image(
        r_from_t(np.asarray(t_map.dataobj), n - 2).astype(np.float32), t_map.affine
    )
    z_fdr, fdr_threshold = threshold_stats_img(
        z_map, mask_img=mask_img, alpha=alpha, height_control="fdr", two_sided=True
    )
    logger.info("%s: FWE from %d permutations of the score", score, n_permutations)
    logp_fwe = non_parametric_inference(
        list(effect_imgs),
        design_matrix=design,
        second_level_contrast=score,
        mask=mask_img,
        n_perm=n_permutations,
        two_sided_test=True,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=0,
    )
    logp_fwe = _float32(logp_fwe)
    significant = np.asarray(logp_fwe.dataobj) > -np.log10(alpha)
    z_fwe = nib.Nifti1Image(
        np.where(significant, np.asarray(z_map.dataobj), 0.0).astype(np.float32), z_map.affine
    )
    return BehaviourMapResult(
        score=score,
        n=n,
        z=z_map,
        t=t_map,
        r=r_map,
        z_fdr=_float32(z_fdr),
        fdr_threshold=float(fdr_threshold),
        logp_fwe=logp_fwe,
        z_fwe=z_fwe,
    )


def behaviour_cluster_table(
    z_fwe: nib.Nifti1Image,
    r_img: nib.Nifti1Image,
    roi_centres_mm: Mapping[str, Sequence[float]],
    min_voxels: int = 1,
) -> pd.DataFrame:
    """Clusters of an FWE-thresholded z map, both signs, with peak r and the nearest ROI.

    Parameters
    ----------
    z_fwe : Niimg-like
        z map, zero where the FWE p value is not below alpha.
    r_img : Niimg-like
        The r map on the same grid (its value at each peak is reported).
    roi_centres_mm : mapping of str to (x, y, z)
        A-priori ROI centres (MNI mm).
    min_voxels : int
        Smallest cluster reported (voxels).

    Returns
    -------
    pandas.DataFrame
        One row per cluster (nilearn's :func:`~nilearn.reporting.get_clusters_table`,
        two-sided, its sub-peaks left out), with the columns
        :data:`CLUSTER_COLUMNS`: peak position (MNI mm), size in voxels and
        mm3, peak z and r, nearest ROI centre and its distance (mm). Empty,
        with these columns, when nothing survives.
    """
    data = np.nan_to_num(np.asarray(z_fwe.dataobj, dtype=float))
    nonzero = np.abs(data[data != 0])
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in CLUSTER_COLUMNS})
    if nonzero.size == 0:
        return empty
    table = get_clusters_table(
        nib.Nifti1Image(data, z_fwe.affine),
        stat_threshold=float(nonzero.min()) - 1e-6,
        cluster_threshold=max(int(min_voxels), 1),
        two_sided=True,
        min_distance=8.0,
    )
    table = table[table["Cluster ID"].astype(str).str.isdigit()]
    if table.empty:
        return empty
    voxel_mm3 = float(abs(np.linalg.det(z_fwe.affine[:3, :3])))
    peaks = table[["X", "Y", "Z"]].to_numpy(float)
    ijk = np.rint((np.linalg.inv(r_img.affine) @ np.c_[peaks, np.ones(len(peaks))].T)[:3].T).astype(
        int
    )
    r_data = np.asarray(r_img.dataobj, dtype=float)
    names = list(roi_centres_mm)
    centres = np.asarray([roi_centres_mm[name] for name in names], float)
    distances = np.linalg.norm(peaks[:, None, :] - centres[None], axis=-1)
    size_mm3 = table["Cluster Size (mm3)"].to_numpy(float)
    result = pd.DataFrame(
        {
            "cluster_id": np.arange(1, len(table) + 1),
            "x_mm": peaks[:, 0],
            "y_mm": peaks[:, 1],
            "z_mm": peaks[:, 2],
            "size_voxels": np.rint(size_mm3 / voxel_mm3).astype(int),
            "size_mm3": size_mm3,
            "peak_z": table["Peak Stat"].to_numpy(float),
            "peak_r": r_data[tuple(ijk.T)],
            "nearest_roi": [names[k] for k in distances.argmin(axis=1)],
            "distance_mm": distances.min(axis=1).round(1),
        }
    )
    # Largest cluster first; equal sizes by the strength of their peak.
    order = np.lexsort((-np.abs(result["peak_z"].to_numpy()), -result["size_voxels"].to_numpy()))
    result = result.iloc[order].reset_index(drop=True)
    result["cluster_id"] = np.arange(1, len(result) + 1)
    return result
