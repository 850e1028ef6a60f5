"""Our simulation of one subject beside BrainIAK fmrisim's generate_noise, on the same grid.

Times, side by side in one run, best of N each:

- ours: one subject of the default study (config.yaml at ``--voxel-size``,
  all its runs and volumes), once with every noise component and once with
  only the components fmrisim has too (head motion, spin history and the
  flinch off); with and without building the simulation space, which a
  workflow job does once per subject and a replicate study once for all;
- BrainIAK: ``fmrisim.generate_noise(dimensions, stimfunction_tr,
  tr_duration, template, mask, noise_dict)`` with ``matched = 0`` (no fitting
  iterations), one call per run, on the same grid (template = our baseline
  image scaled to 0-1, mask = our brain mask), the same number of volumes and
  TR, with our temporal SNR, AR(1), FWHM and physiology and drift on.

BrainIAK runs in a venv of its own through bench/fmrisim_noise.py, so the
project's dependencies stay as they are. Give that venv's python with
``--brainiak-python`` or the environment variable BRAINIAK_PYTHON; make one with

    python3.11 -m venv /path/to/brainiak-venv
    /path/to/brainiak-venv/bin/pip install brainiak

or let this script do it: ``--make-brainiak-venv /path/to/brainiak-venv``
(pip's error is printed if it cannot install BrainIAK).

Run: python bench/bench_brainiak.py [--voxel-size 3] [--repeats 3]
     [--brainiak-repeats 3] [--brainiak-python PY | --make-brainiak-venv DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from empathy_fmri.config import StudyConfig, load_config
from empathy_fmri.simulation.design import BlockDesign, subject_events
from empathy_fmri.simulation.population import draw_subject
from empathy_fmri.simulation.subject import build_space, simulate_subject

REPO = Path(__file__).resolve().parents[1]
FMRISIM_SCRIPT = REPO / "bench" / "fmrisim_noise.py"
#: The issue's target: our simulation at least this many times faster.
TARGET_RATIO = 20.0
#: The noise components each side simulates, as this benchmark sets them up.
OURS_ALL = (
    "task signal (needle, swab, visual), thermal + system noise (AR(1), spatially "
    "smooth, solved so the mixture has the config's tSNR, AR(1) and FWHM after the "
    "high-pass and motion regressors), cardiac + respiratory (aliased, smooth phase "
    "maps, tissue gain), 1/f drift (global + smooth local), head motion (rigid-body "
    "displacement to second order, spin history, needle flinch) and its confounds; "
    "brain voxels only"
)
OURS_MATCHED = (
    "the same without head motion, spin history and the flinch (the components "
    "fmrisim has too; the task signal and the mixture solution stay)"
)
BRAINIAK = (
    "system noise (Gaussian, spatial + temporal), AR(1) brain noise (a smooth "
    "Gaussian random field per volume), physiological (cardiac + respiratory "
    "sinusoids times one smooth field), drift (cosine basis), no task noise, no "
    "head motion; every voxel of the grid, matched = 0 (no fitting)"
)


def _best(function, repeats: int) -> tuple[float, float]:
    """Best wall and best CPU time (this process, all threads) of ``repeats`` calls."""
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return min(times), min(cpu_times)


def _study(voxel_size: int, motion: bool) -> StudyConfig:
    config = load_config(REPO / "config.yaml")
    config["anatomy"]["voxel_size_mm"] = voxel_size
    if not motion:
        config["noise"].update(motion_mm=0.0, spin_history_psc_per_mm=0.0, flinch_mm=0.0)
    return StudyConfig.from_dict(config)


def time_ours(study: StudyConfig, repeats: int) -> dict[str, tuple[float, float]]:
    """Best times of simulating one subject, without and with building the space.

    Parameters
    ----------
    study : StudyConfig
        The study.
    repeats : int
        Best of this many.

    Returns
    -------
    dict
        ``simulate`` and ``build space + simulate``: best (wall, CPU) seconds each.
    """
    simulation = study.simulation
    truth = draw_subject(simulation, 0, study.n_subjects)
    space = build_space(study.anatomy, study.regions, study.signal)
    simulate = _best(lambda: simulate_subject(simulation, 0, truth, space), repeats)

    def build_and_simulate() -> None:
        simulate_subject(
            simulation, 0, truth, build_space(study.anatomy, study.regions, study.signal)
        )

    return {"simulate": simulate, "build space + simulate": _best(build_and_simulate, repeats)}


def fmrisim_inputs(study: StudyConfig, folder: Path) -> tuple[Path, Path]:
    """Write the grid and the noise dictionary that bench/fmrisim_noise.py reads.

    Parameters
    ----------
    study : StudyConfig
        The study whose grid, design and noise fmrisim gets.
    folder : Path
        Where to write ``grid.npz`` and ``noise_dict.json``.

    Returns
    -------
    grid, noise_dict : Path
    """
    space = build_space(study.anatomy, study.regions, study.signal)
    design = BlockDesign.from_config(study.design)
    baseline = np.zeros(space.mask.shape)
    baseline[space.mask] = space.baseline
    stimfunctions = []
    frame_times = design.frame_times_s
    for events in subject_events(design, study.simulation.seed, 0):
        videos = events[events["trial_type"].isin(["needle", "swab"])]
        boxcar = np.zeros((len(frame_times), 1))
        for onset, duration in zip(videos["onset"], videos["duration"], strict=True):
            boxcar[(frame_times >= onset) & (frame_times < onset + duration)] = 1.0
        stimfunctions.append(boxcar)
    grid = folder / "grid.npz"
    np.savez(
        grid,
        template=baseline / baseline.max(),
        mask=space.mask.astype(float),
        stimfunction_tr=np.array(stimfunctions),
        tr_s=design.tr_s,
    )
    noise = study.simulation.noise
    noise_dict = {
        "matched": 0,
        "snr": noise.tsnr,
        "sfnr": noise.tsnr,
        "auto_reg_rho": [noise.ar1_rho],
        "ma_rho": [0.0],
        "auto_reg_sigma": 1.0,
        "physiological_sigma": 1.0 if noise.physio_share > 0 else 0.0,
        "drift_sigma": 1.0 if noise.drift_share > 0 else 0.0,
        "task_sigma": 0.0,
        "fwhm": noise.fwhm_mm,
        "voxel_size": [float(study.anatomy.voxel_size_mm)] * 3,
        "max_activity": float(baseline.max()),
    }
    path = folder / "noise_dict.json"
    path.write_text(json.dumps(noise_dict))
    return grid, path


def make_venv(folder: Path) -> Path | None:
    """Create a venv at ``folder`` and pip-install BrainIAK into it.

    Returns
    -------
    Path or None
        The venv's python, or None when pip could not install BrainIAK (its
        error is printed).
    """
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "brainiak"], capture_output=True, text=True
    )
    if done.returncode:
        print(
            f"BrainIAK could not be installed into {folder}: `pip install brainiak` "
            f"exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        return None
    return python


def run_fmrisim(python: str, grid: Path, noise_dict: Path, repeats: int) -> dict | None:
    """Run bench/fmrisim_noise.py in BrainIAK's venv; None (and why) if it fails."""
    done = subprocess.run(
        [python, str(FMRISIM_SCRIPT), str(grid), str(noise_dict), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(
            f"BrainIAK's generate_noise did not run with {python} (exit "
            f"{done.returncode}):\n{done.stderr[-3000:]}"
        )
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxel-size", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="best of N, ours")
    parser.add_argument("--brainiak-repeats", type=int, default=3, help="best of N, BrainIAK")
    parser.add_argument(
        "--brainiak-python",
        default=os.environ.get("BRAINIAK_PYTHON"),
        help="python of a venv with BrainIAK (default: $BRAINIAK_PYTHON)",
    )
    parser.add_argument(
        "--make-brainiak-venv",
        type=Path,
        default=None,
        help="create this venv and pip-install BrainIAK into it first",
    )
    args = parser.parse_args()

    python = args.brainiak_python
    if args.make_brainiak_venv:
        made = make_venv(args.make_brainiak_venv)
        python = str(made) if made else None
    study = _study(args.voxel_size, motion=True)
    design = BlockDesign.from_config(study.design)
    space_shape = "x".join(
        map(str, build_space(study.anatomy, study.regions, study.signal).mask.shape)
    )
    print(
        f"one subject of the default study at {args.voxel_size} mm: grid {space_shape}, "
        f"{design.n_runs} runs x {design.n_scans} volumes, TR {design.tr_s} s"
    )
    print(f"ours, all components: {OURS_ALL}")
    print(f"ours, matched components: {OURS_MATCHED}")
    print(f"BrainIAK: {BRAINIAK}")

    fmrisim = None
    if python is None:
        print(
            "BrainIAK: no venv given (--brainiak-python or BRAINIAK_PYTHON; make one with "
            "`python3.11 -m venv DIR && DIR/bin/pip install brainiak`, or pass "
            "--make-brainiak-venv DIR); timing ours only"
        )
    with tempfile.TemporaryDirectory() as folder:
        # BrainIAK first: then both sides see the same state of the machine's load
        # as closely as one after the other allows
        if python is not None:
            grid, noise_dict = fmrisim_inputs(study, Path(folder))
            fmrisim = run_fmrisim(python, grid, noise_dict, args.brainiak_repeats)
        ours_all = time_ours(study, args.repeats)
        ours_matched = time_ours(_study(args.voxel_size, motion=False), args.repeats)

    print(
        f"best of {args.repeats}, wall / CPU seconds (the machine is shared: wall time "
        "grows with other load, CPU time much less):"
    )
    for name, ours in (("all components", ours_all), ("matched components", ours_matched)):
        print(
            f"  ours, {name}: "
            + ", ".join(f"{step} {wall:6.2f} / {cpu:6.2f} s" for step, (wall, cpu) in ours.items())
        )
    if fmrisim is None:
        return
    best = (fmrisim["best_s"], fmrisim["best_cpu_s"])
    print(
        f"  BrainIAK {fmrisim['brainiak']} generate_noise (matched = 0), "
        f"{fmrisim['n_runs']} calls of {fmrisim['output_shape']} {fmrisim['output_dtype']}: "
        f"{best[0]:6.2f} / {best[1]:6.2f} s (best of {len(fmrisim['times_s'])}; wall "
        f"{', '.join(f'{t:.2f}' for t in fmrisim['times_s'])} s); its process's peak "
        f"memory {fmrisim['peak_mb']:.0f} MB"
    )
    print("ratio BrainIAK / ours (wall / CPU):")
    for name, ours in (("all components", ours_all), ("matched components", ours_matched)):
        print(
            f"  {name}: "
            + ", ".join(
                f"{best[0] / wall:5.1f} / {best[1] / cpu:5.1f} x ({step})"
                for step, (wall, cpu) in ours.items()
            )
        )
    wall, cpu = ours_all["build space + simulate"]
    worst = min(best[0] / wall, best[1] / cpu)
    print(
        f"target at least {TARGET_RATIO:.0f} x faster (all components, building the space "
        f"included, the lower of the wall and CPU ratios): "
        f"{'met' if worst >= TARGET_RATIO else 'NOT met'} ({worst:.1f} x)"
    )


if __name__ == "__main__":
    main()
