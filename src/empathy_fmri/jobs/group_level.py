"""Job group_level: the group maps and cluster table of the needle-minus-swab contrast."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from empathy_fmri.analysis.second_level import cluster_table
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.atomic import write_json, write_nifti, write_tsv
from empathy_fmri.pipeline.group import group_step

__all__ = [
    "run_group",
]

logger = logging.getLogger(__name__)


def run_group(
    effect_paths: Sequence[str | Path],
    analysis: AnalysisConfig,
    roi_centres_mm: Mapping[str, Sequence[float]],
    outputs: Mapping[str, str | Path],
    seed: int,
    n_jobs: int = 1,
) -> None:
    """Fit :func:`~empathy_fmri.pipeline.group.group_step` and write maps and cluster table.

    Parameters
    ----------
    effect_paths : sequence of path
        One needle-minus-swab effect map per subject.
    analysis : AnalysisConfig
        Alpha, permutations and the cluster size of the table.
    roi_centres_mm : mapping
        A-priori ROI centres, to name clusters.
    outputs : mapping
        Paths for ``z``, ``effect``, ``z_fdr``, ``logp_fwe``, ``z_fwe``,
        ``clusters`` (TSV) and ``summary`` (JSON).
    seed : int
        Seed of the permutations.
    n_jobs : int
        Parallel jobs for the permutations.
    """
    result = group_step(effect_paths, analysis, seed, n_jobs=n_jobs)
    write_nifti(outputs["z"], result.z)
    write_nifti(outputs["effect"], result.effect)
    write_nifti(outputs["z_fdr"], result.z_fdr)
    write_nifti(outputs["logp_fwe"], result.logp_fwe)
    write_nifti(outputs["z_fwe"], result.z_fwe)
    table = cluster_table(result.z_fwe, roi_centres_mm, analysis.cluster_min_voxels)
    write_tsv(outputs["clusters"], table)
    n_fwe = int((np.asarray(result.z_fwe.dataobj) > 0).sum())
    n_fdr = int((np.asarray(result.z_fdr.dataobj) > 0).sum())
    write_json(
        outputs["summary"],
        {
            "n_subjects": len(effect_paths),
            "alpha": analysis.alpha,
            "fdr_z_threshold": (
                result.fdr_threshold if np.isfinite(result.fdr_threshold) else None
            ),
            "n_voxels_fdr": n_fdr,
            "n_voxels_fwe": n_fwe,
            "n_permutations": int(analysis.n_permutations),
            "test": "one-sided one-sample t (needle > swab)",
        },
    )
    logger.info("group: %d voxels pass FDR, %d pass FWE", n_fdr, n_fwe)
