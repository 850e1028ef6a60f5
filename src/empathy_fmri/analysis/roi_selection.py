"""ROIs selected on their correlation with a behavioural score, with and without circularity.

Many published brain-behaviour studies pick the voxels whose effect
correlates most with the behaviour and then report the correlation there
(Vul, Harris, Winkielman & Pashler 2009, Perspect Psychol Sci 4:274). The
selection and the reported r use the same noise, so r is inflated even when
brain and behaviour are unrelated: :func:`behaviour_peak_index` is that
selection. :func:`cross_validated_peak_indices` is the honest version,
leave-one-subject-out (Esterman, Tamber-Rosenau, Chiu & Yantis 2010,
NeuroImage 51:977, "Avoiding non-independence in fMRI data analysis: leave
one subject out"): each subject's ROI is chosen on the other n - 1 subjects'
maps and scores only, so that subject's amplitude is independent of the
choice; leave-one-out rather than split-half keeps every subject in the
correlation.

Every function works on one ROI's search volume at a time, as a
``(n_subjects, n_candidates)`` array of effects; the leave-one-out
correlations of all subjects are computed at once from sums, with no loop
over voxels or subjects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from empathy_fmri.anatomy.spheres import voxel_coordinates_mm

__all__ = [
    "ALL",
    "behaviour_peak_index",
    "candidate_voxels",
    "correlation_with_score",
    "cross_validated_peak_indices",
    "leave_one_out_correlations",
]

#: ``score`` and ``participant_id`` of an ROI definition that holds for every
#: score or every subject, in ``roi_centres.tsv`` and ``roi_contrasts.tsv``
#: (an empty string would be read back from a TSV as NaN).
ALL = "all"


def candidate_voxels(
    centre_mm: Sequence[float],
    search_radius_mm: float,
    affine: np.ndarray,
    within: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Voxels of a search sphere that may hold a selected ROI's centre.

    Parameters
    ----------
    centre_mm : (x, y, z)
        A-priori centre (MNI mm).
    search_radius_mm : float
        Radius of the search sphere.
    affine : numpy.ndarray
        Grid affine.
    within : numpy.ndarray
        Boolean 3D mask of admissible voxels (grey matter).

    Returns
    -------
    mask : numpy.ndarray
        Boolean 3D mask of the candidates.
    coords_mm : numpy.ndarray
        ``(n_candidates, 3)`` MNI coordinates of the candidates, in the order
        of ``data[mask]`` (C order).
    """
    coords = voxel_coordinates_mm(affine, within.shape)
    distance = np.linalg.norm(coords - np.asarray(centre_mm, float), axis=-1)
    mask = within & (distance <= search_radius_mm)
    return mask, coords[mask]


def correlation_with_score(maps: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Pearson r across subjects of every candidate voxel's effect with a score.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(n_subjects, n_candidates)`` effects.
    score : numpy.ndarray
        ``(n_subjects,)`` score of each subject (finite).

    Returns
    -------
    numpy.ndarray
        ``(n_candidates,)`` r; NaN where a voxel's effect is constant.
    """
    x = np.asarray(maps, float)
    y = np.asarray(score, float)
    x = x - x.mean(axis=0)
    y = y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (y @ x) / np.sqrt((x * x).sum(axis=0) * (y @ y))


def leave_one_out_correlations(maps: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Pearson r of every voxel with the score, leaving out each subject in turn.

    Row ``s`` is the r of the other ``n - 1`` subjects: from the sums over
    all subjects minus subject ``s``'s terms (the data are centred on the
    full-sample means first, which leaves r unchanged and keeps the
    subtraction accurate).

    Parameters
    ----------
    maps : numpy.ndarray
        ``(n_subjects, n_candidates)`` effects, ``n_subjects`` >= 4.
    score : numpy.ndarray
        ``(n_subjects,)`` finite scores.

    Returns
    -------
    numpy.ndarray
        ``(n_subjects, n_candidates)``: ``r[s, v]`` without subject ``s``;
        NaN where the others' effect or score is constant.
    """
    x = np.asarray(maps, float)
    y = np.asarray(score, float)
    n = x.shape[0]
    if n < 4:
        raise ValueError(f"leave-one-out correlations need at least 4 subjects, got {n}")
    x = x - x.mean(axis=0)
    y = y - y.mean()
    m = n - 1
    sx = x.sum(axis=0) - x  # (n, v): sums without subject s
    sy = (y.sum() - y)[:, None]  # (n, 1)
    sxx = (x * x).sum(axis=0) - x * x
    syy = (y @ y - y * y)[:, None]
    sxy = (y @ x) - y[:, None] * x
    covariance = sxy - sx * sy / m
    variance_x = sxx - sx * sx / m
    variance_y = syy - sy * sy / m
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.sqrt(variance_x * variance_y)


def _peak(r: np.ndarray) -> np.ndarray:
    """Index of the highest |r| along the last axis (NaN never wins; first on ties)."""
    magnitude = np.where(np.isfinite(r), np.abs(r), -np.inf)
    return np.argmax(magnitude, axis=-1)


def behaviour_peak_index(maps: np.ndarray, score: np.ndarray) -> int:
    """The candidate whose effect correlates most (highest |r|) with the score: circular.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(n_subjects, n_candidates)`` effects of the subjects with a finite score.
    score : numpy.ndarray
        ``(n_subjects,)`` their scores.

    Returns
    -------
    int
        Index of the chosen candidate.
    """
    return int(_peak(correlation_with_score(maps, score)))


def cross_validated_peak_indices(maps: np.ndarray, score: np.ndarray) -> np.ndarray:
    """For each subject, the highest-|r| candidate of the other subjects (leave one out).

    Subject ``s``'s choice depends only on the other subjects' maps and
    scores (Esterman et al. 2010), so changing subject ``s``'s own data
    never changes it.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(n_subjects, n_candidates)`` effects of the subjects with a finite score.
    score : numpy.ndarray
        ``(n_subjects,)`` their scores.

    Returns
    -------
    numpy.ndarray
        ``(n_subjects,)`` index of each subject's chosen candidate.
    """
    return _peak(leave_one_out_correlations(maps, score))
