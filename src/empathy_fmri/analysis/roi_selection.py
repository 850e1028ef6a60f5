"""ROIs selected on their correlation with a behavioural score, with and without circularity.

Many published brain-behaviour studies pick the voxels whose effect
correlates most with the behaviour and then report the correlation there
(Vul, Harris, Winkielman & Pashler 2009, Perspect Psychol Sci 4:274). The
selection and the reported r use the same noise, so r is inflated even when
brain and behaviour are unrelated: :func:`behaviour_peak_index` is that
selection.

:func:`cross_validated_peak_indices` is the honest version: two-fold
cross-fitting. The subjects are split into two halves (:func:`two_folds`,
fixed and independent of the data); each half's ROI is the peak chosen on
the other half's maps and scores, and every subject's value, read in the ROI
its own half did not choose, enters one correlation across all subjects.
Why not leave one subject out (Esterman, Tamber-Rosenau, Chiu & Yantis 2010,
NeuroImage 51:977), which keeps each subject's own value independent of its
own choice too? Because for a correlation across subjects that is not
enough: the n training sets overlap in n - 2 subjects, so most subjects'
ROIs fall on the same voxel, chosen on everybody else's (map, score) pairs,
and r there is still a selected r. Measured on a null (19 subjects, 257
candidate voxels, 2000 studies): P(p < .05) 0.20 for leave-one-out, 0.11
for five folds, 0.051-0.058 for two folds (0.048 for an a-priori voxel).

Every function works on one ROI's search volume at a time, as a
``(n_subjects, n_candidates)`` array of effects, with no loop over voxels.
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
    "two_folds",
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


def two_folds(n_subjects: int) -> np.ndarray:
    """The fixed split of a study's subjects into two halves for cross-fitting.

    A seeded permutation (not the subject order, which the counterbalanced
    block order alternates with) assigns alternate subjects to fold 0 and 1,
    so the halves differ in size by at most one and never depend on the data.

    Parameters
    ----------
    n_subjects : int
        Subjects in the correlation (at least 4).

    Returns
    -------
    numpy.ndarray
        ``(n_subjects,)`` fold (0 or 1) of each subject, in subject order.
    """
    if n_subjects < 4:
        raise ValueError(f"two-fold cross-fitting needs at least 4 subjects, got {n_subjects}")
    return np.random.default_rng(0).permutation(n_subjects) % 2


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
    """For each subject, the highest-|r| candidate of the other half of the subjects.

    Two-fold cross-fitting (see the module docstring): subject ``s``'s choice
    depends only on the maps and scores of the half it is not in, so changing
    subject ``s``'s own data never changes it (nor that of its own half).

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
    maps = np.asarray(maps, float)
    score = np.asarray(score, float)
    folds = two_folds(len(score))
    chosen = np.empty(len(score), int)
    for fold in (0, 1):
        other = folds != fold
        chosen[folds == fold] = behaviour_peak_index(maps[other], score[other])
    return chosen
