"""How often a complete default study finds the pain regions in its FWE group map.

Runs complete simulated studies in memory (the workflow's own steps,
``empathy_fmri.pipeline.replicate.run_replicate``) at the config's own grid
and sample size, each with its own seed, and prints per true region the share
of studies whose whole-brain FWE map (nilearn's max-type permutation test)
has at least one significant voxel in it, with its binomial standard error,
the share that finds AI_L, AI_R and aMCC together, the median peak z in each
region and the a-priori ROIs' reliability (squared correlation of the
estimated with the true amplitude over subjects, averaged over studies).

Each study's tables are kept under ``--out`` (one file per study), so an
interrupted run continues where it stopped and ``--studies`` can be raised.

Run: python bench/bench_group_detection.py [--config config.yaml] [--studies 20]
     [--permutations 1000] [--out bench/out/group_detection]
"""

from __future__ import annotations

import argparse
import copy
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.config import StudyConfig, load_config
from empathy_fmri.pipeline.replicate import replicate_config, run_replicate
from empathy_fmri.simulation.subject import build_space

REPO = Path(__file__).resolve().parents[1]
#: The regions every published pain-versus-no-pain study of this size reports.
PAIN_REGIONS = ("AI_L", "AI_R", "aMCC")


def _study(config: dict, index: int, out: Path, space) -> pd.DataFrame:
    """One complete study's FWE detection and reliability table (cached on disk)."""
    path = out / f"study-{index:03d}.tsv"
    if path.exists():
        return pd.read_csv(path, sep="\t")
    start = time.perf_counter()
    result = run_replicate(config, index, space=space)
    maps = result.maps[result.maps["threshold"] == "fwe"]
    rows = maps[~maps["region"].isin(["all_true", "outside", "distant"])][
        ["region", "n_detected", "peak_z"]
    ].copy()
    amplitudes = result.amplitudes
    reliability = {
        roi: float(np.corrcoef(group["estimate"], group["true"])[0, 1] ** 2)
        for roi, group in amplitudes.groupby("roi")
    }
    rows["reliability"] = rows["region"].map(reliability)
    rows.insert(0, "study", index)
    rows["seconds"] = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    rows.to_csv(temporary, sep="\t", index=False)
    temporary.replace(path)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--permutations", type=int, default=None)
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "group_detection"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_config(args.config)
    # the default study itself: its grid, its sample size, its FWE permutations
    config = copy.deepcopy(config)
    config["power"]["replicates"].update(
        n_subjects=config["n_subjects"],
        voxel_size_mm=config["anatomy"]["voxel_size_mm"],
        n_permutations=args.permutations or config["analysis"]["n_permutations"],
    )
    out = Path(args.out)
    study = StudyConfig.from_dict(replicate_config(config, 0))
    space = build_space(study.anatomy, study.regions, study.signal)
    tables = []
    for index in range(args.studies):
        table = _study(config, index, out, space)
        tables.append(table)
        found = table.set_index("region")["n_detected"]
        print(
            f"study {index + 1}/{args.studies}: "
            + ", ".join(
                f"{name} {'found' if found.get(name, 0) > 0 else 'missed'}" for name in PAIN_REGIONS
            )
            + f" ({table['seconds'].iloc[0]:.0f} s)",
            flush=True,
        )
    every = pd.concat(tables, ignore_index=True)
    n = every["study"].nunique()
    print(
        f"\n{n} complete studies of {config['n_subjects']} subjects at "
        f"{config['anatomy']['voxel_size_mm']} mm, FWE p < 0.05 "
        f"({config['power']['replicates']['n_permutations']} permutations)"
    )
    print(f"{'region':8s} {'found':>7s} {'SE':>6s} {'median peak z':>14s} {'reliability':>12s}")
    for region, group in every.groupby("region", sort=False):
        rate = float(np.mean(group["n_detected"] > 0))
        se = np.sqrt(rate * (1 - rate) / len(group))
        print(
            f"{region:8s} {rate:7.0%} {se:6.1%} {group['peak_z'].median():14.2f} "
            f"{group['reliability'].mean():12.2f}"
        )
    wide = every.pivot(index="study", columns="region", values="n_detected")
    together = float(np.mean((wide[list(PAIN_REGIONS)] > 0).all(axis=1)))
    se = np.sqrt(together * (1 - together) / n)
    print(f"AI_L, AI_R and aMCC all found: {together:.0%} (binomial SE {se:.1%})")


if __name__ == "__main__":
    main()
