"""Job behaviour_map: one score's whole-brain regression maps and cluster table."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.analysis.behaviour_maps import (
    MIN_SUBJECTS,
    behaviour_cluster_table,
    fit_behaviour_map,
    score_design,
)
from empathy_fmri.analysis.first_level import analysis_mask
from empathy_fmri.config.sections import AnalysisConfig, DilemmasConfig
from empathy_fmri.io.atomic import write_json, write_nifti, write_tsv
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.io.phenotype import read_phenotype, require_phenotype_rows

__all__ = [
    "run_behaviour_map",
    "subject_scores",
]

logger = logging.getLogger(__name__)


def subject_scores(
    phenotype_path: str | Path,
    subjects: Sequence[str],
    score: str,
    dilemmas: DilemmasConfig | None = None,
) -> pd.Series:
    """Read one score for exactly these subjects, refusing to leave anyone out.

    Unlike the ROI correlations (``brain_behaviour``, which leave out a
    subject without a phenotype row and log a warning), a map is made of
    every subject's effect map, so a subject without a row or without a
    score is an error that names them.

    Parameters
    ----------
    phenotype_path : str or pathlib.Path
        ``phenotype/moral_dilemmas.tsv``.
    subjects : sequence of str
        Participant labels (``sub-XX``) of the effect maps, in their order.
    score : str
        Score column.
    dilemmas : DilemmasConfig, optional
        ``analysis.dilemmas``: score the raw dilemma counts
        (:func:`~empathy_fmri.io.phenotype.read_phenotype`).

    Returns
    -------
    pandas.Series
        The score of each subject, indexed by ``subjects``.

    Raises
    ------
    InputFileError
        If the file cannot be read, lacks the column, has no row or ``n/a``
        for a subject, or holds the same value for every subject.
    """
    phenotype = read_phenotype(phenotype_path, [score], dilemmas)
    require_phenotype_rows(
        phenotype, subjects, phenotype_path, f"the whole-brain regression on '{score}'"
    )
    values = phenotype.loc[list(subjects), score]
    missing = [s for s in subjects if np.isnan(values.loc[s])]
    if missing:
        raise InputFileError(
            phenotype_path,
            f"column '{score}' is n/a for {', '.join(missing)}; the whole-brain regression "
            "on it uses every subject's map and needs every subject's score",
        )
    try:
        score_design(values, score)
    except ValueError as err:
        raise InputFileError(phenotype_path, str(err)) from err
    return values


def run_behaviour_map(
    effect_paths: Sequence[str | Path],
    subjects: Sequence[str],
    phenotype_path: str | Path,
    score: str,
    analysis: AnalysisConfig,
    roi_centres_mm: Mapping[str, Sequence[float]],
    outputs: Mapping[str, str | Path],
    seed: int,
    n_jobs: int = 1,
) -> None:
    """Regress the subjects' effect maps on one score and write maps, clusters and summary.

    Parameters
    ----------
    effect_paths : sequence of path
        One needle-minus-swab effect map per subject, in the order of ``subjects``.
    subjects : sequence of str
        Their participant labels.
    phenotype_path : str or pathlib.Path
        ``phenotype/moral_dilemmas.tsv``.
    score : str
        The score column (one of ``analysis.scores``).
    analysis : AnalysisConfig
        ``alpha``, ``n_permutations``, ``cluster_min_voxels`` and ``dilemmas``.
    roi_centres_mm : mapping
        A-priori ROI centres, to name the clusters.
    outputs : mapping
        Paths for ``z``, ``r``, ``z_fdr``, ``logp_fwe`` (NIfTI), ``clusters``
        (TSV) and ``summary`` (JSON).
    seed : int
        Seed of the permutations.
    n_jobs : int
        Parallel jobs for the permutations.

    Raises
    ------
    InputFileError
        See :func:`subject_scores`.
    """
    if len(effect_paths) != len(subjects):
        raise ValueError(f"{len(effect_paths)} effect maps for {len(subjects)} subjects")
    if len(subjects) < MIN_SUBJECTS:
        raise ValueError(
            f"a regression map needs at least {MIN_SUBJECTS} subjects, got {len(subjects)}"
        )
    values = subject_scores(phenotype_path, subjects, score, analysis.dilemmas)
    design = score_design(values, score)
    mask = analysis_mask(effect_paths[0])
    result = fit_behaviour_map(
        list(effect_paths),
        design,
        mask,
        alpha=analysis.alpha,
        n_permutations=max(int(analysis.n_permutations), 1),
        random_state=seed,
        n_jobs=n_jobs,
    )
    write_nifti(outputs["z"], result.z)
    write_nifti(outputs["r"], result.r)
    write_nifti(outputs["z_fdr"], result.z_fdr)
    write_nifti(outputs["logp_fwe"], result.logp_fwe)
    table = behaviour_cluster_table(
        result.z_fwe, result.r, roi_centres_mm, analysis.cluster_min_voxels
    )
    write_tsv(outputs["clusters"], table)
    n_fwe = int((np.asarray(result.z_fwe.dataobj) != 0).sum())
    n_fdr = int((np.asarray(result.z_fdr.dataobj) != 0).sum())
    write_json(
        outputs["summary"],
        {
            "score": score,
            "n_subjects": result.n,
            "subjects": list(subjects),
            "design": ["intercept", f"{score} (demeaned)"],
            "df": result.n - 2,
            "alpha": analysis.alpha,
            "fdr_z_threshold": (
                result.fdr_threshold if np.isfinite(result.fdr_threshold) else None
            ),
            "n_voxels_fdr": n_fdr,
            "n_voxels_fwe": n_fwe,
            "n_clusters_fwe": len(table),
            "cluster_min_voxels": int(analysis.cluster_min_voxels),
            "n_permutations": max(int(analysis.n_permutations), 1),
            "test": "two-sided t of the score's slope; FWE by max-|t| permutation of the score",
        },
    )
    logger.info(
        "%s: %d voxels pass FDR, %d pass FWE (%d clusters)", score, n_fdr, n_fwe, len(table)
    )
