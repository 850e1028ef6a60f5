"""How well each analysis ROI sits on the simulated region it is meant to measure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from empathy_fmri.anatomy.spheres import voxel_coordinates_mm

__all__ = [
    "region_peaks",
    "roi_placement",
]


def region_peaks(
    region_masks: Mapping[str, np.ndarray], mean_map: np.ndarray, affine: np.ndarray
) -> dict[str, list[float]]:
    """Where each simulated region's effect peaks.

    Parameters
    ----------
    region_masks : mapping of str to numpy.ndarray
        Boolean 3D masks of the simulated regions.
    mean_map : numpy.ndarray
        True mean needle-minus-swab map (psc) on the same grid.
    affine : numpy.ndarray
        Grid affine.

    Returns
    -------
    dict of str to [x, y, z]
        MNI coordinate of the largest ``|mean effect|`` in each region; the
        region's centre of mass where its mean effect is zero everywhere.
    """
    coords = voxel_coordinates_mm(affine, mean_map.shape)
    peaks = {}
    for name, mask in region_masks.items():
        if not mask.any():
            raise ValueError(f"region '{name}' has an empty mask")
        values = np.where(mask, np.abs(mean_map), -np.inf)
        if np.max(values) > 0:
            peak = coords[np.unravel_index(np.argmax(values), mask.shape)]
        else:
            peak = coords[mask].mean(axis=0)
        peaks[name] = [float(c) for c in peak]
    return peaks


def roi_placement(
    centres: pd.DataFrame,
    roi_masks: Sequence[np.ndarray],
    region_masks: Mapping[str, np.ndarray],
    region_centres_mm: Mapping[str, Sequence[float]],
    region_peaks_mm: Mapping[str, Sequence[float]],
) -> pd.DataFrame:
    """Distance and overlap of every ROI with the simulated region of its name.

    Parameters
    ----------
    centres : pandas.DataFrame
        ``roi_centres.tsv``: one row per ROI definition with ``roi``, ``x``,
        ``y``, ``z`` (its other columns, e.g. ``selection``, are kept).
    roi_masks : sequence of numpy.ndarray
        The boolean 3D mask of each row, in row order.
    region_masks : mapping of str to numpy.ndarray
        The simulated regions' masks, on the same grid.
    region_centres_mm, region_peaks_mm : mapping of str to (x, y, z)
        Each region's configured centre and where its effect peaks
        (:func:`region_peaks`).

    Returns
    -------
    pandas.DataFrame
        The rows of ``centres`` whose ROI has a region, with
        ``distance_to_centre_mm``, ``distance_to_peak_mm``, ``n_voxels_roi``,
        ``n_voxels_region``, ``dice`` (``2 |ROI & region| / (|ROI| + |region|)``),
        ``region_covered`` (share of the region inside the ROI) and
        ``roi_in_region`` (share of the ROI inside the region). ROIs without a
        region of their name measure no simulated signal and are left out.
    """
    if len(roi_masks) != len(centres):
        raise ValueError(f"{len(roi_masks)} masks for {len(centres)} ROI rows")
    rows = []
    for (_, row), mask in zip(centres.iterrows(), roi_masks, strict=True):
        name = row["roi"]
        if name not in region_masks:
            continue
        region = region_masks[name]
        centre = np.array([row["x"], row["y"], row["z"]], float)
        both = int((mask & region).sum())
        n_roi, n_region = int(mask.sum()), int(region.sum())
        rows.append(
            {
                **row.to_dict(),
                "distance_to_centre_mm": float(
                    np.linalg.norm(centre - np.asarray(region_centres_mm[name], float))
                ),
                "distance_to_peak_mm": float(
                    np.linalg.norm(centre - np.asarray(region_peaks_mm[name], float))
                ),
                "n_voxels_roi": n_roi,
                "n_voxels_region": n_region,
                "dice": 2 * both / (n_roi + n_region) if n_roi + n_region else float("nan"),
                "region_covered": both / n_region if n_region else float("nan"),
                "roi_in_region": both / n_roi if n_roi else float("nan"),
            }
        )
    return pd.DataFrame(rows)
