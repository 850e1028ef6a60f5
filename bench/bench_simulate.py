"""Time simulating and writing one subject of the default study.

Prints: building the simulation space (once per job), simulating the runs,
writing them (our BIDS writer), and nibabel alone writing the same images;
and the peak memory of a fresh process that simulates and writes one subject,
beside the size of the 4D images in memory.

Run: python bench/bench_simulate.py [--voxel-size 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from empathy_fmri.config import StudyConfig, load_config
from empathy_fmri.io.bids import bold_image
from empathy_fmri.jobs.simulate import write_subject
from empathy_fmri.simulation.design import BlockDesign
from empathy_fmri.simulation.population import draw_subject
from empathy_fmri.simulation.subject import build_space, simulate_subject

REPO = Path(__file__).resolve().parents[1]


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _peak_memory_mb(voxel_size: int) -> float:
    code = (
        "import resource, tempfile\n"
        "from empathy_fmri.config import StudyConfig, load_config\n"
        "from empathy_fmri.jobs.simulate import write_subject\n"
        f"config = load_config('{REPO / 'config.yaml'}')\n"
        f"config['anatomy']['voxel_size_mm'] = {voxel_size}\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    study = StudyConfig.from_dict(config)\n"
        "    write_subject(study.simulation, study.n_subjects, 0, d + '/bids', d + '/truth')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxel-size", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = load_config(REPO / "config.yaml")
    config["anatomy"]["voxel_size_mm"] = args.voxel_size
    study = StudyConfig.from_dict(config)
    simulation = study.simulation
    design = BlockDesign.from_config(study.design)

    start = time.perf_counter()
    space = build_space(study.anatomy, study.regions, study.signal)
    build_s = time.perf_counter() - start
    truth = draw_subject(simulation, 0, study.n_subjects)
    runs = []
    simulate_s = _best(
        lambda: runs.append(simulate_subject(simulation, 0, truth, space)), args.repeats
    )
    images = [
        bold_image(run.bold, space.mask, space.anatomy.affine, design.tr_s) for run in runs[-1]
    ]
    with tempfile.TemporaryDirectory() as folder:

        def nibabel_only() -> None:
            for k, image in enumerate(images):
                image.to_filename(Path(folder) / f"run-{k}_bold.nii.gz")

        nibabel_s = _best(nibabel_only, args.repeats)
        total_s = _best(
            lambda: write_subject(
                simulation,
                study.n_subjects,
                0,
                Path(folder) / "bids",
                Path(folder) / "truth",
                space,
            ),
            args.repeats,
        )
    n_voxels = int(space.mask.sum())
    grid_mb = np.prod(space.mask.shape) * design.n_scans * 4 / 2**20 * design.n_runs
    print(
        f"default study, {args.voxel_size} mm voxels: {design.n_runs} runs x "
        f"{design.n_scans} scans, {n_voxels} brain voxels of a "
        f"{'x'.join(map(str, space.mask.shape))} grid"
    )
    print(f"build simulation space (once per job): {build_s:6.2f} s")
    print(f"simulate one subject (all runs):       {simulate_s:6.2f} s")
    print(f"nibabel alone writing its images:       {nibabel_s:6.2f} s")
    print(
        f"simulate + write one subject (BIDS, truth, confounds): {total_s:6.2f} s "
        f"= {total_s / nibabel_s:.1f} x nibabel's write alone"
    )
    peak = _peak_memory_mb(args.voxel_size)
    print(
        f"peak memory of a process simulating one subject: {peak:.0f} MB "
        f"(4D float32 images of all runs: {grid_mb:.0f} MB; ratio {peak / grid_mb:.1f})"
    )
    print(f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
