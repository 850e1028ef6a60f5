"""Our first-level job against a plain nilearn FirstLevelModel script, side by side.

One subject of the default study (config.yaml; simulated into a temporary
folder unless --bids names a BIDS dataset) is fitted, alternately and
--repeats times each, in fresh processes (times exclude imports):

* ours: ``run_first_level``, the Snakemake job's body: input checks, the GLM,
  12 maps written, design matrices as TSV and PNG;
* plain: the script a newcomer would write, FirstLevelModel on the .nii.gz
  files with the same HRF, AR(1), cosine drift and high-pass, smoothing and
  motion confounds, nilearn's defaults otherwise (its own EPI mask, float64),
  writing the same 12 maps.

Prints the best and median time of each, their ratio, the peak memory of each
process, where our time goes (stage times of the best run), and the largest
|z| difference of every contrast: against the plain script (in both masks),
and against FirstLevelModel with the project's own settings (its float32
masker and MNI mask), i.e. the same computation before it was sped up.

Run: python bench/bench_first_level.py [--voxel-size 3] [--repeats 3] [--bids DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CONTRASTS = {
    "needleMinusSwab": "needle - swab",
    "needle": "needle",
    "swab": "swab",
    "video": "0.5 * needle + 0.5 * swab",
}
MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]

# argv: bids root, subject, output folder, TR, high-pass (Hz), smoothing (mm).
PLAIN_NILEARN = """
import glob, json, resource, sys, time
import pandas as pd
from nilearn.glm.first_level import FirstLevelModel
root, subject, out = sys.argv[1], sys.argv[2], sys.argv[3]
tr, high_pass, fwhm = map(float, sys.argv[4:7])
start = time.perf_counter()
deriv = f"{root}/derivatives/fmriprep/{subject}/func"
runs = sorted(glob.glob(f"{deriv}/*_desc-preproc_bold.nii.gz"))
keys = [r.split('/')[-1].split('_space-')[0] for r in runs]
events = [pd.read_csv(f"{root}/{subject}/func/{k}_events.tsv", sep='\\t') for k in keys]
confounds = [pd.read_csv(f"{deriv}/{k}_desc-confounds_timeseries.tsv", sep='\\t')
             [['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z']] for k in keys]
model = FirstLevelModel(t_r=tr, slice_time_ref=0.0, hrf_model='glover', drift_model='cosine',
                        high_pass=high_pass, noise_model='ar1', smoothing_fwhm=fwhm)
model.fit(runs, events=[e[['onset', 'duration', 'trial_type']] for e in events],
          confounds=confounds)
names = {'needleMinusSwab': 'needle - swab', 'needle': 'needle', 'swab': 'swab',
         'video': '0.5 * needle + 0.5 * swab'}
for name, formula in names.items():
    maps = model.compute_contrast(formula, output_type='all')
    for key in ('effect_size', 'effect_variance', 'z_score'):
        maps[key].to_filename(f"{out}/{name}_{key}.nii.gz")
total = time.perf_counter() - start
model.masker_.mask_img_.to_filename(f"{out}/mask.nii.gz")
print(json.dumps({"total": total,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# argv: bids root, subject, output folder, config path, voxel size.
OURS = """
import json, resource, sys, time
from pathlib import Path
from empathy_fmri.config import AnalysisConfig, load_config
from empathy_fmri.jobs.first_level import run_first_level
root, subject, out, config_path = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
config = load_config(config_path)
analysis = AnalysisConfig.from_dict(config["analysis"])
start = time.perf_counter()
source = {"bids_dir": str(root), "derivatives": str(root / "derivatives" / "fmriprep"),
          "task": config["task_name"], "space": "MNI152NLin2009aAsym"}
statmaps = {c: {s: out / f"{c}_{s}.nii.gz" for s in ("effect", "variance", "z")}
            for c in ("needleMinusSwab", "needle", "swab", "video")}
stages = run_first_level(subject, source, analysis, statmaps, out / "design.tsv",
                         out / "design.png")
print(json.dumps({"total": time.perf_counter() - start, "stages": stages,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# argv: bids root, subject, output folder, config path. FirstLevelModel with the
# project's settings (what fit_first_level called before it ran nilearn's steps itself).
REFERENCE = """
import sys, warnings
from pathlib import Path
import pandas as pd
from nilearn import image
from nilearn.glm.first_level import FirstLevelModel
from nilearn.maskers import NiftiMasker
from empathy_fmri.analysis.first_level import analysis_mask, confound_regressors
from empathy_fmri.config import AnalysisConfig, load_config
from empathy_fmri.io.layout import SIMULATED_SPACE, find_runs
warnings.simplefilter("ignore")
root, subject, out, config_path = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
config = load_config(config_path)
analysis = AnalysisConfig.from_dict(config["analysis"])
found = find_runs(root, root / "derivatives" / "fmriprep", subject, config["task_name"],
                  SIMULATED_SPACE)
runs = [r.bold for r in found]
events = [pd.read_csv(r.events, sep="\\t") for r in found]
confounds = confound_regressors([pd.read_csv(r.confounds, sep="\\t") for r in found],
                                analysis.confounds)
fwhm = analysis.smoothing_fwhm_mm or None
masker = NiftiMasker(mask_img=analysis_mask(runs[0]), smoothing_fwhm=fwhm,
                     dtype="float32").fit()
model = FirstLevelModel(t_r=config["design"]["tr"], slice_time_ref=0.0,
                        hrf_model=analysis.hrf_model, drift_model=analysis.drift_model,
                        high_pass=analysis.high_pass_hz, noise_model=analysis.noise_model,
                        smoothing_fwhm=fwhm, mask_img=masker, signal_scaling=0,
                        minimize_memory=True)
model.fit([image.load_img(r, dtype="float32") for r in runs],
          events=[e[["onset", "duration", "trial_type"]] for e in events], confounds=confounds)
names = {'needleMinusSwab': 'needle - swab', 'needle': 'needle', 'swab': 'swab',
         'video': '0.5 * needle + 0.5 * swab'}
for name, formula in names.items():
    model.compute_contrast(formula).to_filename(out / f"{name}_z_score.nii.gz")
"""


def _run(code: str, *args: object) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True
    )
    if output.returncode != 0:
        raise RuntimeError(output.stderr[-3000:])
    lines = output.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def _z_difference(ours: Path, other: Path, other_key: str, mask: np.ndarray | None) -> str:
    """Largest |z difference| over the voxels both maps cover, per contrast."""
    parts = []
    for name in CONTRASTS:
        a = nib.load(ours / f"{name}_z.nii.gz").get_fdata()
        b = nib.load(other / f"{name}_{other_key}.nii.gz").get_fdata()
        both = (a != 0) & (b != 0)
        if mask is not None:
            both &= mask
        diff = np.abs(a - b)[both]
        parts.append(
            f"{name} {diff.max():.2g} ({int((diff > 1e-3).sum())} of {both.sum()} voxels > 1e-3)"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxel-size", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subject", default="sub-01")
    parser.add_argument(
        "--bids",
        type=Path,
        default=None,
        help="an existing BIDS dataset of the default config (else simulated)",
    )
    args = parser.parse_args()
    from empathy_fmri.config import StudyConfig, load_config
    from empathy_fmri.jobs.simulate import write_subject

    workdir = Path(tempfile.mkdtemp(prefix="bench_first_level_"))
    try:
        config = load_config(REPO / "config.yaml")
        config["anatomy"]["voxel_size_mm"] = args.voxel_size
        config_path = workdir / "config.yaml"
        config_path.write_text(json.dumps(config))
        bids = args.bids
        if bids is None:
            bids = workdir / "bids"
            study = StudyConfig.from_dict(config)
            write_subject(
                study.simulation,
                study.n_subjects,
                int(args.subject[4:]) - 1,
                bids,
                workdir / "truth",
            )
        analysis = config["analysis"]
        times: dict[str, list[dict]] = {"ours": [], "plain": []}
        for _ in range(args.repeats):
            for name in ("ours", "plain"):
                out = workdir / name
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                if name == "ours":
                    times[name].append(_run(OURS, bids, args.subject, out, config_path))
                else:
                    times[name].append(
                        _run(
                            PLAIN_NILEARN,
                            bids,
                            args.subject,
                            out,
                            config["design"]["tr"],
                            analysis["high_pass_hz"],
                            analysis["smoothing_fwhm_mm"],
                        )
                    )
        reference = workdir / "reference"
        reference.mkdir()
        _run(REFERENCE, bids, args.subject, reference, config_path)

        best = {name: min(runs, key=lambda r: r["total"]) for name, runs in times.items()}
        median = {name: statistics.median(r["total"] for r in runs) for name, runs in times.items()}
        n_runs = len(list((bids / args.subject / "func").glob("*_bold.nii.gz")))
        print(
            f"first level of {args.subject}, default study at {args.voxel_size} mm "
            f"({n_runs} runs), {args.repeats} alternating repeats each, in fresh processes"
        )
        for name, label in (
            ("ours", "ours (run_first_level, the job)"),
            ("plain", "plain nilearn FirstLevelModel script"),
        ):
            print(
                f"  {label:40s} best {best[name]['total']:6.2f} s, median "
                f"{median[name]:6.2f} s, peak memory {best[name]['peak_mb']:5.0f} MB"
            )
        print(
            f"  speed-up plain / ours: best {best['plain']['total'] / best['ours']['total']:.2f}"
            f", median {median['plain'] / median['ours']:.2f}"
        )
        stages = best["ours"]["stages"]
        print(
            "  our stages (best run): "
            + ", ".join(f"{key} {value:.2f} s" for key, value in stages.items())
            + f"; other {best['ours']['total'] - sum(stages.values()):.2f} s"
        )
        plain_mask = nib.load(workdir / "plain" / "mask.nii.gz").get_fdata() > 0
        print(
            "  max |z ours - plain| in both masks: "
            + _z_difference(workdir / "ours", workdir / "plain", "z_score", plain_mask)
        )
        print(
            "  max |z ours - FirstLevelModel, project settings|: "
            + _z_difference(workdir / "ours", reference, "z_score", None)
        )
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
