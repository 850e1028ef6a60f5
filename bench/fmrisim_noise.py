"""Time BrainIAK fmrisim's generate_noise on a grid it is given (runs in BrainIAK's own venv).

bench/bench_brainiak.py writes the grid (template, mask, one stimulus time
course per run, TR) to an .npz file and the noise dictionary to a JSON file,
and runs this script with the python of a venv that has BrainIAK, so the
project's own environment never needs BrainIAK. It needs only numpy and
brainiak, and prints one JSON line: the best wall and CPU time of N repeats of
simulating every run (one generate_noise call per run), those of each repeat, the
shape of the output, BrainIAK's version and this process's peak memory.

Run: BRAINIAK_PYTHON bench/fmrisim_noise.py GRID.npz NOISE_DICT.json [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from importlib.metadata import version

import numpy as np
from brainiak.utils import fmrisim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", help=".npz with template, mask, stimfunction_tr, tr_s")
    parser.add_argument("noise_dict", help="JSON noise dictionary for generate_noise")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    grid = np.load(args.grid)
    with open(args.noise_dict) as file:
        noise_dict = json.load(file)
    template, mask = grid["template"], grid["mask"]
    tr_s = float(grid["tr_s"])
    runs = [np.asarray(run) for run in grid["stimfunction_tr"]]
    np.random.seed(args.seed)  # noqa: NPY002 (fmrisim draws from the global generator)
    times, cpu_times = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for stimfunction_tr in runs:
            noise = fmrisim.generate_noise(
                dimensions=np.array(template.shape),
                stimfunction_tr=stimfunction_tr,
                tr_duration=tr_s,
                template=template,
                mask=mask,
                noise_dict=dict(noise_dict),
            )
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    print(
        json.dumps(
            {
                "best_s": min(times),
                "times_s": times,
                "best_cpu_s": min(cpu_times),
                "cpu_times_s": cpu_times,
                "n_runs": len(runs),
                "output_shape": list(noise.shape),
                "output_dtype": str(noise.dtype),
                "brainiak": version("brainiak"),
                "numpy": np.__version__,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
