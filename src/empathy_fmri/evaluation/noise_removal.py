"""What the first-level model removes of each noise component, and what it leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from nilearn.glm.first_level import make_first_level_design_matrix

from empathy_fmri.config.sections import AnalysisConfig

__all__ = [
    "COMPONENT_LABELS",
    "component_removal",
    "first_level_design",
    "summarise_removal",
    "task_effect",
]

#: Readable names of the simulator's noise components.
COMPONENT_LABELS = {
    "thermal": "thermal",
    "system": "system",
    "physiological": "cardiac + respiratory",
    "slow_physiological": "breathing depth + heart rate",
    "drift": "drift",
    "motion": "head motion",
}


def first_level_design(
    events: pd.DataFrame,
    confounds: pd.DataFrame | None,
    frame_times_s: np.ndarray,
    analysis: AnalysisConfig,
) -> pd.DataFrame:
    """The run's first-level design matrix, as nilearn builds it for the analysis.

    Parameters
    ----------
    events : pandas.DataFrame
        The run's events.
    confounds : pandas.DataFrame or None
        The confound regressors the first level uses (``n/a`` already filled).
    frame_times_s : numpy.ndarray
        Acquisition times (s).
    analysis : AnalysisConfig
        HRF, drift model and high-pass of the first level.

    Returns
    -------
    pandas.DataFrame
        Task regressors, drift model and confounds.
    """
    return make_first_level_design_matrix(
        frame_times_s,
        events[["onset", "duration", "trial_type"]],
        hrf_model=analysis.hrf_model,
        drift_model=analysis.drift_model,
        high_pass=analysis.high_pass_hz,
        add_regs=None if confounds is None else confounds.to_numpy(),
        add_reg_names=None if confounds is None else list(confounds.columns),
    )


def task_effect(
    components: Mapping[str, np.ndarray], design: pd.DataFrame, baseline: np.ndarray
) -> dict[str, np.ndarray]:
    """The needle-minus-swab effect (psc) the first level would read from each component.

    Parameters
    ----------
    components : mapping of str to numpy.ndarray
        ``(n_scans, n_voxels)`` arrays.
    design : pandas.DataFrame
        From :func:`first_level_design`, with ``needle`` and ``swab`` columns.
    baseline : numpy.ndarray
        ``(n_voxels,)`` baseline intensity.

    Returns
    -------
    dict of str to numpy.ndarray
        Per-voxel contrast estimate in percent signal change, by component.
        Noise has no task effect on average; a component that does (a
        stimulus-locked flinch) shows one that does not average out over runs.
    """
    contrast = (design.columns == "needle").astype(float) - (design.columns == "swab")
    weights = contrast @ np.linalg.pinv(design.to_numpy())
    scale = 100.0 / np.asarray(baseline, float)
    return {
        name: (weights @ np.asarray(values, float)) * scale for name, values in components.items()
    }


def component_removal(
    components: Mapping[str, np.ndarray], design: pd.DataFrame, baseline: np.ndarray
) -> pd.DataFrame:
    """Variance of each noise component before and after the first-level design.

    Each component is projected off the run's first-level design matrix
    (:func:`first_level_design`), which is what the GLM's least-squares fit
    does to it. Variances are per voxel in percent signal change squared of
    the voxel's baseline, averaged over the voxels given.

    Parameters
    ----------
    components : mapping of str to numpy.ndarray
        ``(n_scans, n_voxels)`` arrays, one per component.
    design : pandas.DataFrame
        The run's first-level design matrix.
    baseline : numpy.ndarray
        ``(n_voxels,)`` baseline intensity.

    Returns
    -------
    pandas.DataFrame
        One row per component: ``component``, ``variance_psc2`` (after
        removing the mean), ``remaining_psc2`` (after the design) and
        ``share_remaining``; and a row ``all noise`` for their sum.
    """
    basis, singular, _ = np.linalg.svd(design.to_numpy(), full_matrices=False)
    basis = basis[:, singular > singular[0] * 1e-10]
    scale = 100.0 / np.asarray(baseline, float)
    rows = []
    total = None
    for name, values in components.items():
        values = np.asarray(values, float) * scale
        total = values if total is None else total + values
        rows.append(_row(COMPONENT_LABELS.get(name, name), values, basis))
    if total is not None:
        rows.append(_row("all noise", total, basis))
    return pd.DataFrame(rows)


def _row(label: str, values: np.ndarray, basis: np.ndarray) -> dict[str, object]:
    centred = values - values.mean(axis=0)
    residual = values - basis @ (basis.T @ values)
    before = float(np.mean(np.mean(centred**2, axis=0)))
    after = float(np.mean(np.mean(residual**2, axis=0)))
    return {
        "component": label,
        "variance_psc2": before,
        "remaining_psc2": after,
        "share_remaining": after / before if before > 0 else np.nan,
    }


def summarise_removal(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Average per-run removal tables (variances averaged, then the share recomputed).

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        From :func:`component_removal`, each with ``participant_id`` and
        ``run`` columns added.

    Returns
    -------
    pandas.DataFrame
        One row per component: mean ``variance_psc2`` and ``remaining_psc2``,
        ``share_remaining`` and ``share_of_remaining_noise`` (each component's
        part of what the model leaves; the components are independent, so
        these add up to about one).
    """
    table = pd.concat(tables, ignore_index=True)
    summary = (
        table.groupby("component", sort=False)[["variance_psc2", "remaining_psc2"]]
        .mean()
        .reset_index()
    )
    summary["share_remaining"] = summary["remaining_psc2"] / summary["variance_psc2"]
    left = summary.loc[summary["component"] == "all noise", "remaining_psc2"]
    total = float(left.iloc[0]) if len(left) else np.nan
    summary["share_of_remaining_noise"] = summary["remaining_psc2"] / total
    return summary
