"""Accuracy of thresholded group maps against the true regions: sensitivity and false positives."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import ndimage


def _clusters(mask: np.ndarray) -> tuple[int, int]:
    """Number of 26-connected clusters and the size of the largest (voxels)."""
    if not mask.any():
        return 0, 0
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    return int(n), int(sizes.max())


def map_accuracy(
    significant: np.ndarray,
    true_regions: Mapping[str, np.ndarray],
    brain_mask: np.ndarray,
    voxel_size_mm: float,
    near_margin_mm: float,
) -> pd.DataFrame:
    """Sensitivity and false positives of a thresholded group map.

    Parameters
    ----------
    significant : numpy.ndarray
        Boolean 3D map of the voxels declared active.
    true_regions : mapping of str to numpy.ndarray
        Boolean 3D mask of each truly active region (may be empty: then every
        active voxel is a false positive).
    brain_mask : numpy.ndarray
        Boolean 3D mask of the analysed voxels.
    voxel_size_mm : float
        Isotropic voxel size, for distances and volumes.
    near_margin_mm : float
        Voxels outside the true regions but within this distance of one are
        "near" (true signal spread by smoothing); beyond it, "distant".

    Returns
    -------
    pandas.DataFrame
        One row per region: each true region and ``all_true`` (``measure`` =
        ``sensitivity``: ``share_detected`` is the share of its voxels
        declared active), ``outside`` (every analysed voxel outside the true
        regions) and ``distant`` (those beyond ``near_margin_mm``) (``measure`` =
        ``false_positive``: ``n_detected`` false-positive voxels, and
        ``share_detected`` their share of the region). Every row also has
        ``n_voxels``, ``n_clusters`` and ``largest_cluster_voxels`` of the
        active voxels in it, and ``detected_mm3``.
    """
    significant = np.asarray(significant, bool) & brain_mask
    union = np.zeros(brain_mask.shape, bool)
    for mask in true_regions.values():
        if mask.shape != brain_mask.shape:
            raise ValueError(
                f"true region of shape {mask.shape} does not match the map's {brain_mask.shape}"
            )
        union |= mask
    union &= brain_mask
    if union.any():
        distance = ndimage.distance_transform_edt(~union, sampling=voxel_size_mm)
    else:
        distance = np.full(brain_mask.shape, np.inf)
    regions = {name: mask & brain_mask for name, mask in true_regions.items()}
    regions["all_true"] = union
    measures = {name: "sensitivity" for name in regions}
    regions["outside"] = brain_mask & ~union
    regions["distant"] = brain_mask & (distance > near_margin_mm)
    measures.update(outside="false_positive", distant="false_positive")
    rows = []
    voxel_mm3 = voxel_size_mm**3
    for name, region in regions.items():
        detected = significant & region
        n_voxels = int(region.sum())
        n_detected = int(detected.sum())
        n_clusters, largest = _clusters(detected)
        rows.append(
            {
                "region": name,
                "measure": measures[name],
                "n_voxels": n_voxels,
                "n_detected": n_detected,
                "share_detected": n_detected / n_voxels if n_voxels else np.nan,
                "n_clusters": n_clusters,
                "largest_cluster_voxels": largest,
                "detected_mm3": n_detected * voxel_mm3,
            }
        )
    return pd.DataFrame(rows)
