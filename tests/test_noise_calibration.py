"""The noise a lab configures is the noise the data show, for every common swap of its knobs.

Each case changes one or two keys of the default config (every noise
component stays on), simulates quiet runs (no task signal) on a coarse grid
and measures, as a lab would and with estimators written here
(``tests/noise_statistics.py``), with head motion aside as the config
quotes them, the median grey-matter tSNR, the mean
grey-matter lag one, the Forman FWHM and the thermal share, each against its
configured value within 4 standard errors of the mean over the runs (see
``noise_statistics.within``). Most cases are behind the ``calibration``
marker (``HEAVY``); two run by default.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from noise_statistics import run_statistics, within

from empathy_fmri.config import SimulationConfig, validate_config
from empathy_fmri.simulation.design import BlockDesign
from empathy_fmri.simulation.population import draw_subject
from empathy_fmri.simulation.subject import build_space, simulate_subject

#: Runs per case: the SE of the mean of 8 runs, with a t of 7 degrees of freedom.
N_RUNS = 8
COARSE_MM = 4

SWAPS = [
    ("TR 0.8 s", {"design.tr": 0.8}),
    ("TR 3 s", {"design.tr": 3.0}),
    ("tSNR 30", {"noise.tsnr": 30.0}),
    ("tSNR 150", {"noise.tsnr": 150.0}),
    ("thermal share 0.05", {"noise.thermal_share": 0.05}),
    # at TR 2 s and thermal share 0.5 the lag one reaches about 0.31 (bench/noise_reach.py)
    ("thermal share 0.5", {"noise.thermal_share": 0.5, "noise.ar1_rho": 0.25}),
    ("lag one 0.1", {"noise.ar1_rho": 0.1}),
    ("lag one 0.45", {"noise.ar1_rho": 0.45, "noise.thermal_share": 0.2}),
    ("FWHM 4 mm", {"noise.fwhm_mm": 4.0}),
    ("FWHM 10 mm", {"noise.fwhm_mm": 10.0}),
    ("one run", {"design.n_runs": 1}),
    ("four runs", {"design.n_runs": 4}),
    ("2 mm voxels", {"anatomy.voxel_size_mm": 2}),
]


#: Cases behind the ``calibration`` marker (about 20-60 s each on 2 cores);
#: the other two run by default.
HEAVY = {
    "TR 0.8 s",
    "tSNR 150",
    "lag one 0.45",
    "tSNR 30",
    "thermal share 0.05",
    "lag one 0.1",
    "FWHM 4 mm",
    "FWHM 10 mm",
    "one run",
    "four runs",
    "2 mm voxels",
}


def _quiet(config: dict, changes: dict) -> dict:
    """The config with the changes, on the coarse grid, with no task signal."""
    config = copy.deepcopy(config)
    config["anatomy"]["voxel_size_mm"] = COARSE_MM
    config["power"]["replicates"]["voxel_size_mm"] = COARSE_MM
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        config[section][key] = value
    for model in config["signal"]["rois"].values():
        model.update(mean_psc=0.0, sd_psc=0.0)
    config["signal"].update(visual_psc=0.0, swab_psc=0.0, run_sd_psc=0.0)
    return validate_config(config)


@pytest.mark.parametrize(
    ("what", "changes"),
    [
        pytest.param(
            what,
            changes,
            id=what,
            marks=[pytest.mark.calibration] if what in HEAVY else [],
        )
        for what, changes in SWAPS
    ],
)
def test_swapped_noise_is_calibrated(default_config, what, changes):
    config = _quiet(default_config, changes)
    simulation = SimulationConfig.from_dict(config)
    space = build_space(simulation.anatomy, simulation.regions, simulation.signal)
    frame_times = BlockDesign.from_config(simulation.design).frame_times_s
    voxel_mm = simulation.anatomy.voxel_size_mm
    # at least four subjects, so that runs of one subject do not stand for all
    n_subjects = max(4, math.ceil(N_RUNS / simulation.design.n_runs))
    stats: dict[str, list[float]] = {}
    for index in range(n_subjects):
        truth = draw_subject(simulation, index, n_subjects)
        for run in simulate_subject(simulation, index, truth, space, keep_components=True):
            measured = run_statistics(
                run, frame_times, space.grey_voxels, space.mask, voxel_mm, aside=("motion",)
            )
            for key, value in measured.items():
                stats.setdefault(key, []).append(value)
    noise = config["noise"]
    for key, target in (
        ("tsnr", noise["tsnr"]),
        ("lag_one", noise["ar1_rho"]),
        ("fwhm_mm", noise["fwhm_mm"]),
        ("share_thermal", noise["thermal_share"]),
    ):
        ok, message = within(np.array(stats[key]), target)
        assert ok, f"{what}: {key} {message}"


def test_a_run_out_of_reach_gets_the_nearest_lag_one_and_says_so(caplog):
    """The config check refuses what representative runs cannot reach; a run whose
    own realignment regressors leave the target just out of reach is simulated
    at the nearest reachable lag one, logged and recorded, not stopped."""
    from empathy_fmri.simulation.noise_mixture import (
        NoiseBudgetError,
        NoiseGeometry,
        high_pass_basis,
        solve_mixture,
    )

    n = 2000
    geometry = NoiseGeometry(
        baseline=np.full(n, 1000.0),
        physio_gain=np.ones(n),
        grey=np.ones(n, bool),
        neighbours=(np.arange(n - 1), np.arange(1, n)),
        voxel_size_mm=3.0,
    )
    settings = dict(
        tsnr=70.0,
        ar1_rho=0.9,
        fwhm_mm=6.0,
        thermal_share=0.4,
        physio_share=0.05,
        slow_physio_share=0.05,
        drift_share=0.05,
        geometry=geometry,
        basis=high_pass_basis(148, 2.0),
        tr_s=2.0,
        drift_exponent=1.0,
    )
    with pytest.raises(NoiseBudgetError, match="the lag one can lie between"):
        solve_mixture(**settings)
    with caplog.at_level("WARNING"):
        mixture = solve_mixture(**settings, strict=False)
    assert 0.3 < mixture.lag_one < 0.9
    assert "out of this run's reach" in caplog.text
    reachable = solve_mixture(**{**settings, "ar1_rho": 0.3})
    assert reachable.lag_one == 0.3 and 0 < reachable.system_exponent < mixture.system_exponent
