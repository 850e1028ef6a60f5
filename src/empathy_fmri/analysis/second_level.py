"""Group analysis: one-sample test of the needle-minus-swab maps with nilearn."""

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
    "GroupResult",
    "cluster_table",
    "fit_group",
]

logger = logging.getLogger(__name__)


@dataclass
class GroupResult:
    """Group maps of one contrast.

    Attributes
    ----------
    z : nibabel.Nifti1Image
        One-sample z map (positive: needle > swab).
    effect : nibabel.Nifti1Image
        Mean effect across subjects.
    z_fdr : nibabel.Nifti1Image
        z map thresholded at FDR ``alpha`` (zero below threshold).
    fdr_threshold : float
        The z threshold that FDR control chose (``inf`` if nothing survives).
    logp_fwe : nibabel.Nifti1Image or None
        -log10 of the FWE-corrected p value from max-type sign-flip
        permutations; None when no permutations were asked for.
    z_fwe : nibabel.Nifti1Image or None
        z map where the FWE p value is below ``alpha``.
    """

    z: nib.Nifti1Image
    effect: nib.Nifti1Image
    z_fdr: nib.Nifti1Image
    fdr_threshold: float
    logp_fwe: nib.Nifti1Image | None
    z_fwe: nib.Nifti1Image | None


def fit_group(
    effect_imgs: Sequence[str | Path | nib.Nifti1Image],
    mask_img: nib.Nifti1Image,
    *,
    alpha: float = 0.05,
    n_permutations: int = 1000,
    random_state: int = 0,
    n_jobs: int = 1,
) -> GroupResult:
    """One-sample group test with FDR and permutation-FWE thresholds.

    Parameters
    ----------
    effect_imgs : sequence of Niimg-like
        One first-level effect map per subject.
    mask_img : Niimg-like
        Group analysis mask.
    alpha : float
        Significance level of both corrections (one-sided, needle > swab).
    n_permutations : int
        Sign-flip permutations for the max-type FWE correction (0 = skip).
    random_state : int
        Seed of the permutations.
    n_jobs : int
        Parallel jobs for the permutations.

    Returns
    -------
    GroupResult
    """
    if len(effect_imgs) < 3:
        raise ValueError(f"a group test needs at least 3 subjects, got {len(effect_imgs)}")
    design = pd.DataFrame({"intercept": np.ones(len(effect_imgs))})
    model = SecondLevelModel(mask_img=mask_img, smoothing_fwhm=None, minimize_memory=True)
    model.fit(list(effect_imgs), design_matrix=design)
    outputs = model.compute_contrast("intercept", output_type="all")
    z_map = outputs["z_score"]
    z_fdr, fdr_threshold = threshold_stats_img(
        z_map, mask_img=mask_img, alpha=alpha, height_control="fdr", two_sided=False
    )
    logp_fwe = z_fwe = None
    if n_permutations > 0:
        logger.info("FWE: %d sign-flip permutations", n_permutations)
        logp_fwe = non_parametric_inference(
            list(effect_imgs),
            design_matrix=design,
            mask=mask_img,
            n_perm=n_permutations,
            two_sided_test=False,
            random_state=random_state,
            n_jobs=n_jobs,
            verbose=0,
        )
        significant = np.asarray(logp_fwe.dataobj) > -np.log10(alpha)
        z_fwe = nib.Nifti1Image(
            np.where(significant, np.asarray(z_map.dataobj), 0.0).astype(np.float32),
            z_map.affine,
        )
    return GroupResult(
        z=z_map,
        effect=outputs["effect_size"],
        z_fdr=z_fdr,
        fdr_threshold=float(fdr_threshold),
        logp_fwe=logp_fwe,
        z_fwe=z_fwe,
    )


def cluster_table(
    thresholded_z: nib.Nifti1Image,
    roi_centres_mm: Mapping[str, Sequence[float]],
    min_voxels: int = 5,
) -> pd.DataFrame:
    """Clusters and peaks of a thresholded z map, with the nearest ROI.

    Parameters
    ----------
    thresholded_z : Niimg-like
        z map with zeros below threshold.
    roi_centres_mm : mapping of str to (x, y, z)
        A-priori ROI centres.
    min_voxels : int
        Smallest cluster reported.

    Returns
    -------
    pandas.DataFrame
        nilearn's cluster table (``Cluster ID``, ``X``, ``Y``, ``Z`` in MNI mm,
        ``Peak Stat``, ``Cluster Size (mm3)``) plus ``nearest_roi`` and
        ``distance_mm`` to its centre. Empty, with these columns, when nothing
        survives.
    """
    data = np.asarray(thresholded_z.dataobj)
    columns = ["Cluster ID", "X", "Y", "Z", "Peak Stat", "Cluster Size (mm3)"]
    positive = data[data > 0]
    if positive.size == 0:
        return pd.DataFrame(columns=[*columns, "nearest_roi", "distance_mm"])
    table = get_clusters_table(
        thresholded_z,
        stat_threshold=float(positive.min()) - 1e-6,
        cluster_threshold=min_voxels,
        two_sided=False,
        min_distance=8.0,
    )
    names = list(roi_centres_mm)
    centres = np.asarray([roi_centres_mm[n] for n in names], float)
    peaks = table[["X", "Y", "Z"]].to_numpy(float)
    distances = np.linalg.norm(peaks[:, None, :] - centres[None], axis=-1)
    table["nearest_roi"] = [names[i] for i in distances.argmin(axis=1)]
    table["distance_mm"] = distances.min(axis=1).round(1)
    return table
