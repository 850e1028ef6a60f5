"""Estimators of the noise statistics a lab measures, written independently of the simulator.

Each works on a simulated run's data (or one of its noise components) after
the nuisance model every first level has: nilearn's 1/128 Hz cosine
high-pass and the six realignment regressors of the run's confounds file.
"""

from __future__ import annotations

import numpy as np
from nilearn.glm.first_level import make_first_level_design_matrix

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def nuisance_design(run, frame_times: np.ndarray) -> np.ndarray:
    """The high-pass and realignment design of a run, as nilearn builds it."""
    return make_first_level_design_matrix(
        frame_times,
        events=None,
        drift_model="cosine",
        high_pass=1 / 128,
        add_regs=run.confounds[MOTION].to_numpy(),
        add_reg_names=MOTION,
    ).to_numpy()


def residuals(data: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Least-squares residuals of ``(n_scans, n_voxels)`` data on the design."""
    y = data.astype(np.float64)
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ beta


def forman_fwhm_mm(residual: np.ndarray, mask: np.ndarray, voxel_mm: float) -> float:
    """FWHM from the variance of spatial first differences (Forman et al. 1995).

    ``residual``: ``(n_scans, n_voxels)`` over the voxels of ``mask``. Per axis,
    FWHM = sqrt(-2 ln 2 / ln(1 - var(dx) / (2 var(e)))) voxels on standardised
    residuals, over the pairs of neighbours inside the mask; we return the
    geometric mean over the three axes.
    """
    standardised = residual / residual.std(axis=0, keepdims=True).clip(1e-12)
    index = np.full(mask.shape, -1)
    index[mask] = np.arange(int(mask.sum()))
    fwhm = []
    for axis in range(3):
        lower = np.take(index, range(mask.shape[axis] - 1), axis=axis)
        upper = np.take(index, range(1, mask.shape[axis]), axis=axis)
        both = (lower >= 0) & (upper >= 0)
        difference = standardised[:, lower[both]] - standardised[:, upper[both]]
        correlation = 1 - np.mean(difference**2) / 2
        fwhm.append(np.sqrt(-2 * np.log(2) / np.log(correlation)))
    return float(np.prod(fwhm) ** (1 / 3) * voxel_mm)


def run_statistics(
    run, frame_times: np.ndarray, grey: np.ndarray, mask, voxel_mm, aside: tuple[str, ...] = ()
) -> dict:
    """tSNR, lag one, FWHM and each component's share of one run, as a lab reads them.

    ``aside`` names components taken out of the data first: the config's
    noise statistics are quoted with head motion aside (what the six
    realignment regressors leave of it is not in the noise budget).

    tSNR is the grey-matter median of mean over residual SD; the lag one the
    grey-matter mean of each voxel's lag-one autocorrelation of its
    residuals; a component's share the grey-matter mean of its residual
    variance over the typical voxel's noise variance, (median mean / tSNR)^2.
    The shares need the run's components (``keep_components=True``).
    """
    design = nuisance_design(run, frame_times)
    data = run.bold.astype(np.float64)
    for name in aside:
        data = data - run.components[name]
    residual = residuals(data, design)
    mean = data.mean(axis=0)
    sd = np.sqrt(np.mean(residual**2, axis=0))
    tsnr = float(np.median(mean[grey] / sd[grey]))
    r = residual[:, grey]
    stats = {
        "tsnr": tsnr,
        "lag_one": float(np.mean(np.sum(r[1:] * r[:-1], axis=0) / np.sum(r**2, axis=0))),
        "fwhm_mm": forman_fwhm_mm(residual, mask, voxel_mm),
    }
    typical = (float(np.median(mean[grey])) / tsnr) ** 2
    for name, component in run.components.items():
        if name in aside:
            continue
        part = residuals(component[:, grey], design)
        stats[f"share_{name}"] = float(np.mean(part**2)) / typical
    return stats


def within(values: np.ndarray, target: float, n_se: float = 4.0) -> tuple[bool, str]:
    """Is the mean of per-run estimates within ``n_se`` standard errors of the target?

    Runs are independent (own physiology, drift, motion and noise draws), so
    the standard error of their mean is their SD over sqrt(n). It holds the
    estimator's sampling error and the true run-to-run variation of the
    noise (e.g. the aliased frequency of the breathing). 4 standard errors of
    a t with 7 degrees of freedom is a two-sided p of 0.005 per test.
    """
    values = np.asarray(values, dtype=float)
    mean = float(np.mean(values))
    se = float(np.std(values, ddof=1) / np.sqrt(values.size))
    return abs(mean - target) <= n_se * se, f"mean {mean:.4g}, SE {se:.3g}, target {target}"
