"""Where the time of the default study goes, and our first level vs. plain nilearn.

1. Runs `snakemake --cores N` on config.yaml (as shipped) in a temporary
   folder and sums the per-job time and peak memory from Snakemake's
   benchmark files, per rule.
2. Times one subject's first level through the library, and through the plain
   nilearn script a newcomer would write, side by side
   (bench/bench_first_level.py on this study's BIDS dataset).

Run: python bench/bench_pipeline.py [--cores 2] [--voxel-size 3] [--subjects N]
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

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--voxel-size", type=int, default=None,
                        help="override anatomy.voxel_size_mm (default: the config's 3)")
    parser.add_argument("--configfile", type=Path, default=None,
                        help="a config merged over config.yaml first, e.g. "
                             "tests/data/tiny_config.yaml")
    parser.add_argument("--no-first-level", action="store_true",
                        help="skip the first-level comparison (part 2)")
    parser.add_argument("--subjects", type=int, default=None,
                        help="override n_subjects (default: the config's 19)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternating repeats of the first-level comparison")
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
    command = [SNAKEMAKE, "--cores", str(args.cores), "--quiet", "all",
               "--configfile", *configfiles]
    start = time.perf_counter()
    subprocess.run(command, cwd=workdir, check=True)
    wall_s = time.perf_counter() - start
    rows = []
    for path in sorted((workdir / "benchmarks").rglob("*.tsv")):
        rule = path.parent.name if path.parent.name != "benchmarks" else path.stem
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {"rule": rule, "s": table["s"].iloc[0], "cpu_s": table["cpu_time"].iloc[0],
             "max_rss_mb": table["max_rss"].iloc[0]}
        )
    per_rule = pd.DataFrame(rows).groupby("rule").agg(
        jobs=("s", "size"), total_s=("s", "sum"), mean_s=("s", "mean"),
        cpu_s=("cpu_s", "sum"), peak_mb=("max_rss_mb", "max"),
    )
    extra = f"{args.configfile} + " if args.configfile else ""
    print(f"study config.yaml + {extra}{overrides}, snakemake --cores {args.cores}: "
          f"{wall_s:.0f} s wall")
    print(per_rule.sort_values("total_s", ascending=False).round(1).to_string())
    # Wall time per job grows with other load on the machine; CPU time much less.
    print(f"all jobs: {per_rule['total_s'].sum():.0f} s of job wall time, "
          f"{per_rule['cpu_s'].sum():.0f} s of CPU time; peak memory of any job "
          f"{per_rule['peak_mb'].max():.0f} MB")

    # Part 2: the first level of one subject of this study, side by side (it
    # reads the design and analysis of config.yaml, so only for the default study).
    if not args.no_first_level and not args.configfile:
        subprocess.run([sys.executable, str(REPO / "bench" / "bench_first_level.py"),
                        "--bids", str(workdir / "results" / "bids"),
                        "--voxel-size", str(args.voxel_size or 3),
                        "--repeats", str(args.repeats)], check=True)
    if not args.keep:
        shutil.rmtree(workdir)
    else:
        print(f"kept {workdir}")


if __name__ == "__main__":
    main()
