"""Where the time of the default study goes, and our first level vs. plain nilearn.

1. Runs `snakemake --cores N` on config.yaml (as shipped) in a temporary
   folder and prints its wall and CPU time; sums the per-job time and peak
   memory from Snakemake's benchmark files, per rule; and per stage
   (simulate, first level, group, ROI, ...) the jobs' time and the stage's
   span, from its first job's start to its last job's end (stages overlap).
2. Times one subject's first level through the library, and through the plain
   nilearn script a newcomer would write, side by side
   (bench/bench_first_level.py on this study's BIDS dataset).

Run: python bench/bench_pipeline.py [--cores 2] [--voxel-size 3] [--subjects N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from bench_scaling import job_table

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


#: Stages of the study, in order, by the start of their rules' names.
STAGES = {
    "simulate": ("simulate_",),
    "first level": ("first_level", "participants_table"),
    "group": ("group_level",),
    "ROI": ("roi_",),
    "brain-behaviour": ("brain_behaviour", "behaviour_map"),
    "power": ("power_measurement", "power_monte_carlo", "power_pilot"),
    "validation": ("validate_",),
    "figures": ("figure_", "power_figures"),
    "conclusion": ("conclusion",),
}


def stage_of(rule: str) -> str:
    """The stage of :data:`STAGES` a rule belongs to ("other" if none)."""
    for stage, prefixes in STAGES.items():
        if rule.startswith(prefixes):
            return stage
    return "other"


def stage_table(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per stage: jobs, their summed wall and CPU time, and the stage's span.

    ``jobs`` has a row per job with ``rule``, ``s`` (wall), ``cpu_s`` and
    ``end_s`` (end, s after the run started); the span runs from the first
    job's start (``end_s - s``) to the last job's end.
    """
    jobs = jobs.assign(stage=jobs["rule"].map(stage_of), start_s=jobs["end_s"] - jobs["s"])
    table = jobs.groupby("stage", sort=False).agg(
        jobs=("s", "size"),
        job_s=("s", "sum"),
        cpu_s=("cpu_s", "sum"),
        first_start_s=("start_s", "min"),
        last_end_s=("end_s", "max"),
    )
    table["span_s"] = table["last_end_s"] - table["first_start_s"]
    order = [stage for stage in [*STAGES, "other"] if stage in table.index]
    return table.loc[order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--voxel-size",
        type=int,
        default=None,
        help="override anatomy.voxel_size_mm (default: the config's 3)",
    )
    parser.add_argument(
        "--configfile",
        type=Path,
        default=None,
        help="a config merged over config.yaml first, e.g. tests/data/tiny_config.yaml",
    )
    parser.add_argument(
        "--no-first-level", action="store_true", help="skip the first-level comparison (part 2)"
    )
    parser.add_argument(
        "--subjects", type=int, default=None, help="override n_subjects (default: the config's 19)"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="alternating repeats of the first-level comparison"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    shutil.copy(REPO / "Snakefile", workdir)
    shutil.copy(REPO / "config.yaml", workdir)
    shutil.copytree(REPO / "workflow", workdir / "workflow")
    overrides: dict = {}
    if args.voxel_size:
        overrides["anatomy"] = {"voxel_size_mm": args.voxel_size}
    if args.subjects:
        overrides["n_subjects"] = args.subjects
    (workdir / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    configfiles = ["overrides.yaml"]
    if args.configfile:
        shutil.copy(args.configfile, workdir / "extra_config.yaml")
        configfiles = ["extra_config.yaml", "overrides.yaml"]
    command = [
        SNAKEMAKE,
        "--cores",
        str(args.cores),
        "--quiet",
        "all",
        "--configfile",
        *configfiles,
    ]
    start = time.perf_counter()
    started = time.time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=workdir, check=True)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # every process of the run (Snakemake and its jobs, each reaped by its parent)
    cpu_s = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    jobs = job_table(workdir / "benchmarks")
    jobs["end_s"] -= started
    per_rule = jobs.groupby("rule").agg(
        jobs=("s", "size"),
        total_s=("s", "sum"),
        mean_s=("s", "mean"),
        cpu_s=("cpu_s", "sum"),
        peak_mb=("max_rss_mb", "max"),
    )
    extra = f"{args.configfile} + " if args.configfile else ""
    print(
        f"study config.yaml + {extra}{overrides}, snakemake --cores {args.cores}: "
        f"{wall_s:.0f} s wall, {cpu_s:.0f} s CPU (user + system, every process)"
    )
    print(per_rule.sort_values("total_s", ascending=False).round(1).to_string())
    # Wall time per job grows with other load on the machine; CPU time much less.
    print(
        f"all jobs: {per_rule['total_s'].sum():.0f} s of job wall time, "
        f"{per_rule['cpu_s'].sum():.0f} s of CPU time; peak memory of any job "
        f"{per_rule['peak_mb'].max():.0f} MB ({int(jobs['from_log'].sum())} of {len(jobs)} "
        "jobs' CPU and memory from their logs, the rest from Snakemake's sampled benchmarks)"
    )
    # what the jobs' processes do not account for: Snakemake itself (parsing,
    # scheduling, the benchmark threads) and the start of each job's process
    print(
        f"outside the jobs' own CPU time: {cpu_s - per_rule['cpu_s'].sum():.0f} s "
        f"({len(jobs)} jobs)"
    )
    print(stage_table(jobs).round(1).to_string())

    # Part 2: the first level of one subject of this study, side by side (it
    # reads the design and analysis of config.yaml, so only for the default study).
    if not args.no_first_level and not args.configfile:
        subprocess.run(
            [
                sys.executable,
                str(REPO / "bench" / "bench_first_level.py"),
                "--bids",
                str(workdir / "results" / "bids"),
                "--voxel-size",
                str(args.voxel_size or 3),
                "--repeats",
                str(args.repeats),
            ],
            check=True,
        )
    if not args.keep:
        shutil.rmtree(workdir)
    else:
        print(f"kept {workdir}")


if __name__ == "__main__":
    main()
