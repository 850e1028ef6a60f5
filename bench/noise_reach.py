"""Which noise settings the simulator reaches: the lag-one range per TR and thermal share.

For each TR and thermal share (the other noise keys at the config's values),
prints the range of the grey-matter lag-one autocorrelation that the noise
mixture can be solved for, after the 1/128 Hz high-pass and the six
realignment regressors of the config's head motion, as the config check
computes it before any job (``simulation.feasibility.noise_problems``, whose
message holds the range). Then it checks every combination of the swaps the
calibration tests measure and lists those refused.

Run: python bench/noise_reach.py [--config config.yaml]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import re
from pathlib import Path

from empathy_fmri.config import load_config
from empathy_fmri.simulation.feasibility import noise_problems

REPO = Path(__file__).resolve().parents[1]
TRS = (0.8, 1.0, 1.5, 2.0, 2.5, 3.0)
THERMAL_SHARES = (0.05, 0.2, 0.3, 0.4, 0.5)
RANGE = re.compile(r"between (-?[0-9.]+) and (-?[0-9.]+)")


def _with(config: dict, **changes) -> dict:
    changed = copy.deepcopy(config)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        changed[section][key] = value
    return changed


def lag_one_range(config: dict, tr_s: float, thermal_share: float) -> tuple[float, float]:
    """The reachable lag one at this TR and thermal share (the solver's message)."""
    # a lag one no noise can have makes the check report the range
    probe = _with(config, design__tr=tr_s, noise__thermal_share=thermal_share, noise__ar1_rho=0.95)
    problems = noise_problems(probe)
    match = RANGE.search(problems[0]) if problems else None
    if match is None:
        raise RuntimeError(f"no range in {problems}")
    return float(match.group(1)), float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    args = parser.parse_args()
    config = load_config(args.config)
    noise = config["noise"]
    print(
        "Reachable lag one (grey-matter mean, after the high-pass and motion regressors), "
        f"tSNR {noise['tsnr']}, physio_share {noise['physio_share']}, slow_physio_share "
        f"{noise['slow_physio_share']}, drift_share {noise['drift_share']}:"
    )
    print("TR (s) " + "".join(f"  thermal {share:<4}" for share in THERMAL_SHARES))
    for tr_s in TRS:
        cells = [lag_one_range(config, tr_s, share) for share in THERMAL_SHARES]
        print(f"{tr_s:<6} " + "".join(f"  {low:5.2f} - {high:4.2f} " for low, high in cells))
    refused = []
    combinations = list(
        itertools.product(
            (0.8, 2.0, 3.0), (30, 150), (0.05, 0.5), (0.1, 0.45), (4, 10), (2, 4), (1, 4)
        )
    )
    for tr_s, tsnr, thermal, lag, fwhm, voxel, runs in combinations:
        changed = _with(
            config,
            design__tr=tr_s,
            design__n_runs=runs,
            noise__tsnr=tsnr,
            noise__thermal_share=thermal,
            noise__ar1_rho=lag,
            noise__fwhm_mm=fwhm,
            anatomy__voxel_size_mm=voxel,
        )
        changed["power"]["replicates"]["voxel_size_mm"] = voxel
        if noise_problems(changed):
            refused.append((tr_s, tsnr, thermal, lag, fwhm, voxel, runs))
    print(
        f"\nSwap grid (TR 0.8/2/3 s, tSNR 30/150, thermal share 0.05/0.5, lag one 0.1/0.45, "
        f"FWHM 4/10 mm, voxels 2/4 mm, 1/4 runs): {len(combinations) - len(refused)} of "
        f"{len(combinations)} accepted"
    )
    kinds = sorted({(tr_s, thermal, lag) for tr_s, _, thermal, lag, *_ in refused})
    for tr_s, thermal, lag in kinds:
        print(f"  refused: TR {tr_s} s, thermal share {thermal}, lag one {lag} (every other swap)")


if __name__ == "__main__":
    main()
