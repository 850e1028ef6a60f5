"""Checks that a configured noise model can be simulated on the configured grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from empathy_fmri.config.sections import SimulationConfig
from empathy_fmri.simulation.design import BlockDesign
from empathy_fmri.simulation.motion import motion_parameters, realignment_estimate
from empathy_fmri.simulation.noise_mixture import (
    NoiseBudgetError,
    NoiseGeometry,
    nuisance_basis,
    solve_mixture,
)

__all__ = [
    "noise_problems",
]

#: Runs drawn to check that the noise mixture can be solved (the solution
#: depends a little on each run's realignment regressors).
_TRIAL_RUNS = 3
#: Identical voxels of the trial geometry.
_TRIAL_VOXELS = 4000


def noise_problems(config: Mapping[str, Any]) -> list[str]:
    """Say which noise settings the simulator cannot reach.

    The thermal plus system noise is solved per run from that run's
    physiological waveforms, drift and motion; this tries the solution on
    representative draws for a uniform grey-matter voxel, before any job runs
    (a simulation job that still meets an unreachable run stops with the same
    message).

    Parameters
    ----------
    config : mapping
        A configuration that passed :func:`empathy_fmri.config.validate_config`.

    Returns
    -------
    list of str
        One message per problem, naming the config keys; empty when all is well.
    """
    simulation = SimulationConfig.from_dict(config)
    grids = [(simulation.anatomy.voxel_size_mm, "")]
    coarse = config.get("power", {}).get("replicates", {}).get("voxel_size_mm")
    if coarse is not None and coarse != simulation.anatomy.voxel_size_mm:
        grids.append(
            (
                coarse,
                f"on the replicate studies' grid ('power.replicates.voxel_size_mm' = {coarse}): ",
            )
        )
    for voxel_size_mm, where in grids:
        problem = _unreachable(simulation, voxel_size_mm)
        if problem:
            return [where + problem]
    return []


def _unreachable(simulation: SimulationConfig, voxel_size_mm: float) -> str | None:
    """The solver's message if the noise cannot be simulated on this grid, else None."""
    noise = simulation.noise
    design = BlockDesign.from_config(simulation.design)
    baseline = simulation.signal.baseline_grey
    # many identical grey-matter voxels: the solver's per-voxel field weights
    # (chi-square draws) then average to their expectation
    n = _TRIAL_VOXELS
    geometry = NoiseGeometry(
        baseline=np.full(n, baseline),
        physio_gain=np.ones(n),
        grey=np.ones(n, bool),
        neighbours=(np.arange(n - 1), np.arange(1, n)),
        voxel_size_mm=voxel_size_mm,
    )
    rng = np.random.default_rng(0)
    for _ in range(_TRIAL_RUNS):
        motion = motion_parameters(rng, design.n_scans, noise.motion_mm)
        estimated = realignment_estimate(rng, motion, noise.realignment_error_mm)
        try:
            solve_mixture(
                tsnr=noise.tsnr,
                ar1_rho=noise.ar1_rho,
                fwhm_mm=noise.fwhm_mm,
                thermal_share=noise.thermal_share,
                physio_share=noise.physio_share,
                slow_physio_share=noise.slow_physio_share,
                drift_share=noise.drift_share,
                geometry=geometry,
                basis=nuisance_basis(design.n_scans, design.tr_s, estimated),
                tr_s=design.tr_s,
                drift_exponent=noise.drift_exponent,
            )
        except NoiseBudgetError as error:
            return str(error)
    return None
