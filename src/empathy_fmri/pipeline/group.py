"""Group level of a study, in memory: the one-sample test with FDR and FWE maps."""

from __future__ import annotations

from collections.abc import Sequence

import nibabel as nib

from empathy_fmri.analysis.first_level import analysis_mask
from empathy_fmri.analysis.second_level import GroupResult, fit_group
from empathy_fmri.config.sections import AnalysisConfig

__all__ = [
    "group_step",
]


def group_step(
    effect_imgs: Sequence[str | nib.Nifti1Image],
    analysis: AnalysisConfig,
    seed: int,
    mask_img: nib.Nifti1Image | None = None,
    n_jobs: int = 1,
) -> GroupResult:
    """Test the subjects' needle-minus-swab effects against zero, as the study configures it.

    Parameters
    ----------
    effect_imgs : sequence of Niimg-like or path
        One effect map per subject.
    analysis : AnalysisConfig
        ``alpha`` and ``n_permutations`` (sign flips of the FWE map).
    seed : int
        Seed of the permutations.
    mask_img : Niimg-like, optional
        Analysis mask (nilearn's MNI brain mask on the maps' grid if None).
    n_jobs : int
        Parallel jobs for the permutations.

    Returns
    -------
    GroupResult
    """
    mask = mask_img if mask_img is not None else analysis_mask(effect_imgs[0])
    return fit_group(
        list(effect_imgs),
        mask,
        alpha=analysis.alpha,
        n_permutations=max(int(analysis.n_permutations), 1),
        random_state=seed,
        n_jobs=n_jobs,
    )
