"""How the cost of a study grows with its subjects, and the peak memory of a job per grid.

1. Runs the whole tiny study of the tests (tests/data/tiny_config.yaml over
   config.yaml, `snakemake --cores N all`) with 10, 20 and 40 subjects, one
   after the other in fresh folders, and sums Snakemake's benchmark files per
   stage: job wall time, CPU time and the peak memory of any job (CPU and
   memory as each job's log states them, see :func:`job_table`).
   Cost per subject is flat when the ratio of the per-subject times at 40 and
   at 10 subjects is near 1; the marginal cost of a subject (10 -> 20 and
   20 -> 40) separates the per-subject work from the fixed cost of the
   group-level, power and figure jobs.
2. Runs the default study (config.yaml as shipped, 5 subjects, the fewest
   whose sign-flip FWE test can reach alpha) at 3 mm and at 2 mm up to the
   ROI-mean GLM of its first subject: every simulate, first-level, group and
   ROI job that needs, and prints each job's peak memory (``--up-to
   first_level``: only the first subject's simulation and first level).

The stages of one study run one after the other; the three study sizes run
one after the other too, so a change of load on the machine between them
shows in the ratios. CPU time moves less with load than wall time.

On a busy machine the sizes can run as separate processes at once, each
saving its jobs, and be compared afterwards:

    python bench/bench_scaling.py --subjects 40 --grids --tables T &
    python bench/bench_scaling.py --subjects 10 --grids --tables T
    python bench/bench_scaling.py --subjects 10 20 40 --grids --tables T --from-tables

Run: python bench/bench_scaling.py [--cores 2] [--subjects 10 20 40]
     [--grids 3 2] [--keep] [--tables DIR [--from-tables]]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from empathy_fmri.jobs.logs import read_job_usage
from empathy_fmri.simulation.population import participant_id

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = REPO / "tests" / "data" / "tiny_config.yaml"

#: Stage of each rule, by the rule's name (first matching prefix).
STAGES = {
    "simulate_": "simulate",
    "first_level": "first level",
    "participants_table": "first level",
    "group_level": "group",
    "roi_": "ROI",
    "brain_behaviour": "statistics",
    "behaviour_map": "behaviour maps",
    "power_": "power",
    "validate_": "validation",
    "figure_": "figures",
    "conclusion": "figures",
}
#: The rules with one job per subject.
PER_SUBJECT_RULES = ("simulate_events", "simulate_subject", "first_level", "roi_glm")
#: Peak memory per job the issue asks for at most (MB), per voxel size (mm).
MEMORY_TARGET_MB = {3: 1536, 2: 4096}
#: The fewest subjects whose sign-flip FWE test can reach alpha = 0.05 (2^5 flips).
FEWEST_SUBJECTS = 5


def stage_of(rule: str) -> str:
    """The stage a rule belongs to (its own name when no prefix matches)."""
    for prefix, stage in STAGES.items():
        if rule.startswith(prefix):
            return stage
    return rule


def job_table(benchmarks: Path, logs: Path | None = None) -> pd.DataFrame:
    """One row per job: its wall time from Snakemake's benchmark file, its cost from its log.

    Snakemake's benchmark files sample a job once a second for 30 s and
    every 30 s after that, and keep the last sample's CPU time, so they miss
    what a job does after it (a replicate study: 15 s of CPU recorded, 40 s by
    ``/usr/bin/time``) and peaks between samples. Each job's log ends with its
    CPU time and peak memory measured by the job itself
    (:func:`empathy_fmri.jobs.logs.read_job_usage`); those are used, and the
    benchmark file's only where a log has none.

    Parameters
    ----------
    benchmarks : Path
        The study's ``benchmarks/`` folder (``<rule>.tsv`` or ``<rule>/<wildcard>.tsv``).
    logs : Path, optional
        The study's ``logs/`` folder, laid out as ``benchmarks/``
        (default: ``logs`` beside ``benchmarks``).

    Returns
    -------
    pandas.DataFrame
        Columns ``rule``, ``stage``, ``s`` (wall), ``cpu_s``, ``max_rss_mb``,
        ``end_s`` (when the job ended, the benchmark file's modification
        time, seconds since the epoch) and ``from_log`` (whether the cost
        came from the log).
    """
    logs = logs if logs is not None else benchmarks.parent / "logs"
    rows = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        rule = path.parent.name if path.parent != benchmarks else path.stem
        table = pd.read_csv(path, sep="\t")
        log = logs / path.relative_to(benchmarks).with_suffix(".log")
        usage = read_job_usage(log) if log.is_file() else None
        rows.append(
            {
                "rule": rule,
                "stage": stage_of(rule),
                "s": float(table["s"].iloc[0]),
                "cpu_s": usage["cpu_s"] if usage else float(table["cpu_time"].iloc[0]),
                "max_rss_mb": usage["peak_mb"] if usage else float(table["max_rss"].iloc[0]),
                "end_s": path.stat().st_mtime,
                "from_log": usage is not None,
            }
        )
    return pd.DataFrame(rows)


def run_study(
    overrides: dict, cores: int, targets: list[str], tiny: bool, keep: bool
) -> tuple[float, pd.DataFrame]:
    """Run one study in a fresh folder and read its benchmark files.

    Parameters
    ----------
    overrides : dict
        Config merged last (``--configfile``).
    cores : int
        ``snakemake --cores``.
    targets : list of str
        Snakemake targets (rule names or files, relative to the folder).
    tiny : bool
        Merge tests/data/tiny_config.yaml over config.yaml first.
    keep : bool
        Keep the folder (its path is printed).

    Returns
    -------
    wall_s : float
        Wall time of the whole run.
    jobs : pandas.DataFrame
        From :func:`job_table`.
    """
    workdir = Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    shutil.copy(REPO / "Snakefile", workdir)
    shutil.copy(REPO / "config.yaml", workdir)
    shutil.copytree(REPO / "workflow", workdir / "workflow")
    (workdir / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    configfiles = ["overrides.yaml"]
    if tiny:
        shutil.copy(TINY, workdir / "tiny_config.yaml")
        configfiles = ["tiny_config.yaml", "overrides.yaml"]
    # targets first: --quiet and --configfile take every word after them
    command = [
        SNAKEMAKE,
        *(targets or ["all"]),
        "--cores",
        str(cores),
        "--configfile",
        *configfiles,
    ]
    start = time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        done = subprocess.run(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    wall_s = time.perf_counter() - start
    if done.returncode:
        tail = (workdir / "snakemake.log").read_text().splitlines()[-30:]
        sys.exit(f"snakemake failed in {workdir} (kept):\n" + "\n".join(tail))
    jobs = job_table(workdir / "benchmarks")
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir)
    return wall_s, jobs


def tiny_study(
    n: int, cores: int, keep: bool, tables: Path | None, reuse: bool
) -> tuple[float, pd.DataFrame]:
    """Run the tiny study with ``n`` subjects, or read a run saved in ``tables``.

    Parameters
    ----------
    n : int
        Subjects.
    cores : int
        ``snakemake --cores``.
    keep : bool
        Keep the study's folder.
    tables : Path or None
        Folder where each run's job table is saved (``tiny_subjects-<n>.tsv``,
        with the run's wall time in column ``run_wall_s``).
    reuse : bool
        Read the run from ``tables`` instead of running it.

    Returns
    -------
    wall_s : float
        Wall time of the run.
    jobs : pandas.DataFrame
        From :func:`job_table`.
    """
    path = tables / f"tiny_subjects-{n}.tsv" if tables else None
    if reuse and path is not None:
        jobs = pd.read_csv(path, sep="\t")
        return float(jobs.pop("run_wall_s").iloc[0]), jobs
    wall_s, jobs = run_study({"n_subjects": n}, cores, [], tiny=True, keep=keep)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        jobs.assign(run_wall_s=wall_s).to_csv(path, sep="\t", index=False)
    return wall_s, jobs


def subject_scaling(
    sizes: list[int], cores: int, keep: bool, tables: Path | None = None, reuse: bool = False
) -> None:
    """Part 1: the tiny study at each size; time per stage, per subject, and memory."""
    totals = {}
    stage_tables = {}
    per_subject_jobs = {}
    for n in sizes:
        wall_s, jobs = tiny_study(n, cores, keep, tables, reuse)
        totals[n] = {
            "wall_s": wall_s,
            "job_s": jobs["s"].sum(),
            "cpu_s": jobs["cpu_s"].sum(),
            "jobs": len(jobs),
            "peak_mb": jobs["max_rss_mb"].max(),
        }
        stage_tables[n] = jobs.groupby("stage").agg(
            jobs=("s", "size"),
            s=("s", "sum"),
            cpu_s=("cpu_s", "sum"),
            peak_mb=("max_rss_mb", "max"),
        )
        per_subject_jobs[n] = (
            jobs[jobs["rule"].isin(PER_SUBJECT_RULES)]
            .groupby("rule")
            .agg(mean_s=("s", "mean"), mean_cpu_s=("cpu_s", "mean"), peak_mb=("max_rss_mb", "max"))
        )
        print(
            f"tiny study, {n} subjects, snakemake --cores {cores}: {wall_s:.0f} s wall, "
            f"{totals[n]['jobs']} jobs, {totals[n]['job_s']:.0f} s of job wall time, "
            f"{totals[n]['cpu_s']:.0f} s CPU, peak memory of any job "
            f"{totals[n]['peak_mb']:.0f} MB",
            flush=True,
        )

    print("\njob wall time per stage (s), CPU time in brackets:")
    stages = sorted(
        set().union(*(t.index for t in stage_tables.values())),
        key=lambda s: -stage_tables[sizes[-1]]["s"].get(s, 0.0),
    )
    rows = {
        stage: {
            f"{n} subjects": f"{stage_tables[n]['s'].get(stage, 0.0):7.1f} "
            f"({stage_tables[n]['cpu_s'].get(stage, 0.0):6.1f})"
            for n in sizes
        }
        for stage in stages
    }
    rows["total (job time)"] = {
        f"{n} subjects": f"{totals[n]['job_s']:7.1f} ({totals[n]['cpu_s']:6.1f})" for n in sizes
    }
    rows["total (wall)"] = {f"{n} subjects": f"{totals[n]['wall_s']:7.1f}" for n in sizes}
    print(pd.DataFrame(rows).T.to_string())

    print("\nmean time of a per-subject job (s wall / s CPU) and its peak memory (MB):")
    per_rule = {
        rule: {
            f"{n} subjects": (
                f"{per_subject_jobs[n].loc[rule, 'mean_s']:5.2f} / "
                f"{per_subject_jobs[n].loc[rule, 'mean_cpu_s']:5.2f}, "
                f"{per_subject_jobs[n].loc[rule, 'peak_mb']:4.0f} MB"
            )
            for n in sizes
            if rule in per_subject_jobs[n].index
        }
        for rule in PER_SUBJECT_RULES
    }
    print(pd.DataFrame(per_rule).T.to_string())

    small, large = sizes[0], sizes[-1]
    print("\ncost per subject:")
    for key, name in (
        ("job_s", "job wall time"),
        ("cpu_s", "CPU time"),
        ("wall_s", "run wall time"),
    ):
        per = {n: totals[n][key] / n for n in sizes}
        figures = ", ".join(f"{per[n]:.1f} s at {n}" for n in sizes)
        print(
            f"  {name} / subjects: {figures}; ratio {large} vs {small}: "
            f"{per[large] / per[small]:.2f}"
        )
    for key, name in (("job_s", "job wall time"), ("cpu_s", "CPU time")):
        marginal = [
            (totals[b][key] - totals[a][key]) / (b - a)
            for a, b in zip(sizes, sizes[1:], strict=False)
        ]
        steps = ", ".join(
            f"{m:.1f} s ({a} -> {b})" for m, a, b in zip(marginal, sizes, sizes[1:], strict=False)
        )
        ratio = (
            f"; ratio last vs first {marginal[-1] / marginal[0]:.2f}" if len(marginal) > 1 else ""
        )
        print(f"  {name} of one more subject: {steps}{ratio}")
    per_subject = {
        n: stage_tables[n]
        .loc[stage_tables[n].index.isin(["simulate", "first level", "ROI"]), "cpu_s"]
        .sum()
        / n
        for n in sizes
    }
    print(
        "  CPU time / subject of the simulate, first-level and ROI stages: "
        + ", ".join(f"{per_subject[n]:.1f} s at {n}" for n in sizes)
        + f"; ratio {large} vs {small}: {per_subject[large] / per_subject[small]:.2f}"
    )
    flat = abs(per_subject[large] / per_subject[small] - 1) <= 0.2
    print(
        f"  cost per subject of the per-subject stages is "
        f"{'flat (within 20%)' if flat else 'not flat (off by more than 20%)'}"
    )


def grid_memory(grids: list[int], cores: int, keep: bool, up_to: str = "roi_glm") -> None:
    """Part 2: peak memory per job of the default study up to one subject's job, per grid.

    Parameters
    ----------
    grids : list of int
        Voxel sizes (mm).
    cores : int
        ``snakemake --cores``.
    keep : bool
        Keep the study's folder.
    up_to : {"roi_glm", "first_level"}
        The first subject's job to run up to: its ROI-mean GLM (which needs
        every subject's first level and the group map) or only its first level
        (its events, simulation and first level: three jobs).
    """
    task = yaml.safe_load((REPO / "config.yaml").read_text())["task_name"]
    subject = participant_id(0, FEWEST_SUBJECTS)
    target = {
        "roi_glm": f"results/roi/{subject}/{subject}_task-{task}"
        "_contrast-needleMinusSwab_roiglm.tsv",
        "first_level": f"results/derivatives/glm/{subject}/{subject}_task-{task}_desc-inputs.json",
    }[up_to]
    for grid in grids:
        wall_s, jobs = run_study(
            {"n_subjects": FEWEST_SUBJECTS, "anatomy": {"voxel_size_mm": grid}},
            cores,
            [target],
            tiny=False,
            keep=keep,
        )
        per_rule = jobs.groupby("rule").agg(
            jobs=("s", "size"),
            mean_s=("s", "mean"),
            cpu_s=("cpu_s", "mean"),
            peak_mb=("max_rss_mb", "max"),
        )
        print(
            f"\ndefault study at {grid} mm, {FEWEST_SUBJECTS} subjects, up to the {up_to} "
            f"job of {subject}: {wall_s:.0f} s wall; per job:"
        )
        print(per_rule.sort_values("peak_mb", ascending=False).round(1).to_string())
        subject_jobs = per_rule.loc[per_rule.index.isin(PER_SUBJECT_RULES), "peak_mb"]
        print(
            f"peak memory per job at {grid} mm: {per_rule['peak_mb'].max():.0f} MB "
            f"({per_rule['peak_mb'].idxmax()}); of a per-subject job "
            f"{subject_jobs.max():.0f} MB ({subject_jobs.idxmax()})",
            flush=True,
        )
        if grid in MEMORY_TARGET_MB:
            within = per_rule["peak_mb"].max() <= MEMORY_TARGET_MB[grid]
            print(
                f"  target at most {MEMORY_TARGET_MB[grid] / 1024:.1f} GB per job: "
                f"{'met' if within else 'NOT met'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--subjects",
        type=int,
        nargs="*",
        default=[10, 20, 40],
        help="study sizes of part 1, smallest first (none: skip part 1)",
    )
    parser.add_argument(
        "--grids",
        type=int,
        nargs="*",
        default=[3, 2],
        help="voxel sizes (mm) of part 2 (none: skip part 2)",
    )
    parser.add_argument(
        "--up-to",
        choices=["roi_glm", "first_level"],
        default="roi_glm",
        help="part 2 runs up to this job of the first subject",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--tables", type=Path, default=None, help="save each tiny run's job table in this folder"
    )
    parser.add_argument(
        "--from-tables",
        action="store_true",
        help="run nothing in part 1: read the sizes' runs from --tables "
        "(e.g. sizes run as separate processes) and compare them",
    )
    args = parser.parse_args()
    if args.from_tables and args.tables is None:
        parser.error("--from-tables needs --tables")
    if args.subjects:
        subject_scaling(sorted(args.subjects), args.cores, args.keep, args.tables, args.from_tables)
    if args.grids:
        grid_memory(args.grids, args.cores, args.keep, args.up_to)


if __name__ == "__main__":
    main()
