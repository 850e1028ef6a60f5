"""Speed of the fast power Monte Carlo: simulated studies per second on one core.

Run: ``python bench/bench_power.py`` (from the repository root). Uses the
default config with an illustrative measurement model (gain 0.85, error SD
0.2 psc in every ROI) and limits BLAS to one thread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from empathy_fmri.config import StudyConfig, load_config
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.monte_carlo import simulate_correlations, summarise_correlations

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-studies", type=int, default=10_000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[19, 30, 50, 100, 200, 400])
    args = parser.parse_args()
    config = load_config(REPO / "config.yaml")
    study = StudyConfig.from_dict(config)
    rois = list(config["signal"]["rois"])
    model = MeasurementModel({r: 0.85 for r in rois}, {r: 0.2 for r in rois})
    rng = np.random.default_rng(0)
    rho = np.full((len(rois), len(config["analysis"]["scores"])), 0.2)
    total_studies, total_time = 0, 0.0
    with threadpool_limits(1):
        for n in args.sizes:
            start = time.perf_counter()
            r = simulate_correlations(
                study.signal, study.behaviour, study.analysis.scores, n, args.n_studies, rng, model
            )
            summarise_correlations(r, n, rho, 0.05)
            elapsed = time.perf_counter() - start
            total_studies += args.n_studies
            total_time += elapsed
            print(
                f"N = {n:4d}: {args.n_studies} studies in {elapsed:6.2f} s "
                f"({args.n_studies / elapsed:9.0f} studies/s)"
            )
    print(
        f"all: {total_studies} studies in {total_time:.2f} s "
        f"({total_studies / total_time:.0f} studies/s)"
    )


if __name__ == "__main__":
    main()
