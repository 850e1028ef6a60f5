"""Where the time of the default study goes, and our first level vs. plain nilearn.

1. Runs `snakemake --cores N` on config.yaml (as shipped) in a temporary
   folder and sums the per-job time and peak memory from Snakemake's
   benchmark files, per rule.
2. Times one subject's first level through the library, and through the plain
   nilearn script a newcomer would write (FirstLevelModel on the .nii.gz
   files, events and confounds read with pandas, defaults otherwise).

Run: python bench/bench_pipeline.py [--cores 2] [--voxel-size 3]
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

PLAIN_NILEARN = """
import sys, time, pandas as pd
from nilearn.glm.first_level import FirstLevelModel
root, subject = sys.argv[1], sys.argv[2]
runs = sorted(__import__('glob').glob(f"{root}/{subject}/func/*_bold.nii.gz"))
events = [pd.read_csv(r.replace('_bold.nii.gz', '_events.tsv'), sep='\\t') for r in runs]
confounds = [pd.read_csv(r.replace(root, root + '/derivatives/simulated-motion')
             .replace('_bold.nii.gz', '_desc-confounds_timeseries.tsv'), sep='\\t')
             [['trans_x','trans_y','trans_z','rot_x','rot_y','rot_z']] for r in runs]
start = time.perf_counter()
model = FirstLevelModel(t_r=2.0, smoothing_fwhm=6, noise_model='ar1', hrf_model='glover')
model.fit(runs, events=[e[['onset','duration','trial_type']] for e in events],
          confounds=confounds)
for c in ['needle - swab', 'needle', 'swab', '0.5 * needle + 0.5 * swab']:
    out = model.compute_contrast(c, output_type='all')
    for key in ('effect_size', 'effect_variance', 'z_score'):
        out[key].to_filename(f"/tmp/_plain_{key}.nii.gz")
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--voxel-size", type=int, default=3)
    parser.add_argument("--subjects", type=int, default=None,
                        help="override n_subjects (default: the config's 19)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    shutil.copy(REPO / "Snakefile", workdir)
    shutil.copy(REPO / "config.yaml", workdir)
    shutil.copytree(REPO / "workflow", workdir / "workflow")
    overrides: dict = {"anatomy": {"voxel_size_mm": args.voxel_size}}
    if args.subjects:
        overrides["n_subjects"] = args.subjects
    (workdir / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    command = [SNAKEMAKE, "--cores", str(args.cores), "--quiet", "all",
               "--configfile", "overrides.yaml"]
    start = time.perf_counter()
    subprocess.run(command, cwd=workdir, check=True)
    wall_s = time.perf_counter() - start
    rows = []
    for path in sorted((workdir / "benchmarks").rglob("*.tsv")):
        rule = path.parent.name if path.parent.name != "benchmarks" else path.stem
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {"rule": rule, "s": table["s"].iloc[0], "max_rss_mb": table["max_rss"].iloc[0]}
        )
    per_rule = pd.DataFrame(rows).groupby("rule").agg(
        jobs=("s", "size"), total_s=("s", "sum"), mean_s=("s", "mean"),
        peak_mb=("max_rss_mb", "max"),
    )
    print(f"study {overrides}, snakemake --cores {args.cores}: "
          f"{wall_s:.0f} s wall")
    print(per_rule.sort_values("total_s", ascending=False).round(1).to_string())

    bids = workdir / "results" / "bids"
    from empathy_fmri.config import AnalysisConfig, load_config
    from empathy_fmri.jobs.first_level import run_first_level

    config = load_config(workdir / "config.yaml")
    config["anatomy"]["voxel_size_mm"] = args.voxel_size
    runs = sorted((bids / "sub-01" / "func").glob("*_bold.nii.gz"))
    out = workdir / "bench_fl"
    statmaps = {c: {s: out / f"{c}_{s}.nii.gz" for s in ("effect", "variance", "z")}
                for c in ("needleMinusSwab", "needle", "swab", "video")}
    start = time.perf_counter()
    run_first_level(
        [str(r) for r in runs],
        [str(r).replace("_bold.nii.gz", "_events.tsv") for r in runs],
        [str(r).replace(str(bids), str(bids / "derivatives/simulated-motion")).replace(
            "_bold.nii.gz", "_desc-confounds_timeseries.tsv") for r in runs],
        AnalysisConfig.from_dict(config["analysis"]), config["design"]["tr"], statmaps,
        [(out / f"d{k}.tsv", out / f"d{k}.png") for k in range(len(runs))],
    )
    ours_s = time.perf_counter() - start
    plain = subprocess.run([sys.executable, "-c", PLAIN_NILEARN, str(bids), "sub-01"],
                           capture_output=True, text=True, check=True)
    plain_s = float(plain.stdout.strip().splitlines()[-1])
    print(f"first level of one subject: library {ours_s:.1f} s (incl. design-matrix PNGs), "
          f"plain nilearn script {plain_s:.1f} s; ratio library/plain = {ours_s / plain_s:.2f}")
    if not args.keep:
        shutil.rmtree(workdir)
    else:
        print(f"kept {workdir}")


if __name__ == "__main__":
    main()
