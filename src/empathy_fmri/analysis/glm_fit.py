"""nilearn's first-level GLM fit (``run_glm``), with the AR(1) coefficient estimated at once.

:func:`nilearn.glm.first_level.run_glm` estimates each voxel's AR coefficient
with ``_yule_walker``, which builds one scipy Toeplitz matrix per voxel and
solves a linear system with it; for AR(1) that system is 1 x 1 and the estimate
is the ratio of the lag-1 and lag-0 autocovariances of the OLS residuals, which
:func:`ar1_coefficients` computes for all voxels in one pass, with
``_yule_walker``'s demeaning (by the mean over all voxels and scans) and
normalisation (lag-k sums divided by ``n_scans - k``, then by ``n_scans``).
:func:`run_glm_fast` then groups the voxels by the coefficient truncated to
``1 / bins`` as ``run_glm`` does and fits nilearn's own
:class:`~nilearn.glm.regression.ARModel` to each group, so the results are
``run_glm``'s to rounding error. Other noise models go to ``run_glm`` itself.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from nilearn.glm.first_level import run_glm
from nilearn.glm.regression import ARModel, OLSModel, SimpleRegressionResults

__all__ = [
    "ar1_coefficients",
    "run_glm_fast",
]


def ar1_coefficients(residuals: np.ndarray) -> np.ndarray:
    """Yule-Walker AR(1) coefficient of every voxel, as nilearn's ``_yule_walker(x, 1)``.

    Parameters
    ----------
    residuals : numpy.ndarray of shape (n_scans, n_voxels)
        OLS residuals.

    Returns
    -------
    numpy.ndarray of shape (n_voxels,)
        ``r1 / r0`` with ``r_k = sum_t y[t] y[t + k] / ((n_scans - k) n_scans)``
        and ``y`` the residuals minus their mean over all voxels and scans.
    """
    n_scans = residuals.shape[0]
    centred = residuals - residuals.mean()
    r0 = np.einsum("tv,tv->v", centred, centred) / (n_scans * n_scans)
    r1 = np.einsum("tv,tv->v", centred[:-1], centred[1:]) / ((n_scans - 1) * n_scans)
    return r1 / r0


def _fit_group(design: np.ndarray, rho: float, data: np.ndarray) -> SimpleRegressionResults:
    """Fit an ARModel to one group of voxels; keep what contrasts need."""
    return SimpleRegressionResults(ARModel(design, rho).fit(data))


def run_glm_fast(
    data: np.ndarray,
    design: np.ndarray,
    noise_model: str = "ar1",
    bins: int = 100,
    n_jobs: int = 1,
) -> tuple[np.ndarray, dict[int | str | float, SimpleRegressionResults]]:
    """GLM fit of one run, as :func:`nilearn.glm.first_level.run_glm`, for contrasts.

    For ``noise_model="ar1"`` the OLS residuals, the AR(1) coefficients
    (:func:`ar1_coefficients`), their truncation to ``1 / bins`` and the
    :class:`~nilearn.glm.regression.ARModel` fit of each group of voxels
    sharing a coefficient are those of ``run_glm``; only the Yule-Walker
    estimate and the grouping are computed for all voxels at once. Any other
    noise model is passed to ``run_glm``.

    Parameters
    ----------
    data : numpy.ndarray of shape (n_scans, n_voxels)
        The (scaled) BOLD data.
    design : numpy.ndarray of shape (n_scans, n_regressors)
        The design matrix.
    noise_model : str
        ``"ar1"``, or any noise model of ``run_glm``.
    bins : int
        The AR(1) coefficient is truncated to multiples of ``1 / bins``.
    n_jobs : int
        Parallel jobs over the groups of voxels (joblib).

    Returns
    -------
    labels : numpy.ndarray of shape (n_voxels,)
        The group of each voxel, a key of ``results``.
    results : dict
        :class:`~nilearn.glm.regression.SimpleRegressionResults` per group, as
        ``FirstLevelModel(minimize_memory=True)`` keeps them; with
        :func:`nilearn.glm.contrasts.compute_contrast` or
        ``compute_fixed_effect_contrast``.
    """
    if data.shape[0] != design.shape[0]:
        raise ValueError(
            f"data has {data.shape[0]} scans but the design matrix has {design.shape[0]} rows"
        )
    if noise_model != "ar1":
        labels, full = run_glm(data, design, noise_model=noise_model, bins=bins, n_jobs=n_jobs)
        return labels, {key: SimpleRegressionResults(value) for key, value in full.items()}
    ols = OLSModel(design)
    # As RegressionResults.residuals: Y - X (pinv(X) Y), in float64.
    residuals = data - np.dot(design, np.dot(ols.calc_beta, data))
    rho = ar1_coefficients(residuals)
    del residuals
    rho = (rho * bins).astype(int) * 1.0 / bins
    values, labels = np.unique(rho, return_inverse=True)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(values) + 1))
    groups = [order[bounds[k] : bounds[k + 1]] for k in range(len(values))]
    fits = Parallel(n_jobs=n_jobs)(
        delayed(_fit_group)(design, values[k], data[:, groups[k]]) for k in range(len(values))
    )
    return labels, dict(enumerate(fits))
