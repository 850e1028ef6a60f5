"""Which per-subject ROI estimate recovers the true amplitudes best, and at what cost.

Simulates a study in memory (the default config, or ``--n-subjects`` and
``--n-runs`` overrides) and, for every subject, measures each ROI's
needle-minus-swab amplitude four ways:

- ``smoothed_average``: the voxelwise first level at ``analysis.smoothing_fwhm_mm``,
  averaged in the ROI (the group maps' fit);
- ``unsmoothed_average``: the same first level without smoothing, averaged;
- ``roi_mean_glm``: the first-level model fitted to the ROI's mean unsmoothed
  time series (AR(1), cosine drift, the confounds: the voxelwise model);
- ``plain_ols``: OLS on the ROI mean with polynomial drift and the six motion
  regressors (the reference of issue 16).

Prints, per ROI and estimator, the correlation with the true amplitudes and its
Fisher-z difference from ``smoothed_average``, plus the seconds each costs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from empathy_fmri.analysis.first_level import analysis_mask, confound_regressors
from empathy_fmri.analysis.roi import extract_roi_means, roi_masks
from empathy_fmri.analysis.roi_glm import fit_roi_glm
from empathy_fmri.anatomy.template import grey_matter_on
from empathy_fmri.config import StudyConfig
from empathy_fmri.evaluation.inference import dependent_correlation_z
from empathy_fmri.pipeline.first_level import first_level_step
from empathy_fmri.pipeline.simulated_subject import simulate_subject_data
from empathy_fmri.pipeline.study_config import check_study_config, load_study_config
from empathy_fmri.simulation.subject import build_space

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-subjects", type=int, default=None)
    parser.add_argument("--n-runs", type=int, default=None)
    parser.add_argument("--voxel-size", type=int, default=None)
    args = parser.parse_args()
    config = load_study_config(REPO / "config.yaml")
    if args.n_subjects:
        config["n_subjects"] = args.n_subjects
    if args.n_runs:
        config["design"]["n_runs"] = args.n_runs
    if args.voxel_size:
        config["anatomy"]["voxel_size_mm"] = args.voxel_size
    study = StudyConfig.from_dict(check_study_config(config))
    space = build_space(study.anatomy, study.regions, study.signal)
    analysis = study.analysis
    unsmoothed = StudyConfig.from_dict(
        {**config, "analysis": {**config["analysis"], "smoothing_fwhm_mm": 0}}
    ).analysis
    ols = StudyConfig.from_dict(
        {
            **config,
            "analysis": {
                **config["analysis"],
                "smoothing_fwhm_mm": 0,
                "noise_model": "ols",
                "drift_model": "polynomial",
            },
        }
    ).analysis
    rows, seconds = (
        [],
        {k: 0.0 for k in ("smoothed_average", "unsmoothed_average", "roi_mean_glm", "plain_ols")},
    )
    mask_img = masks = None
    with threadpool_limits(1):
        for index in range(study.n_subjects):
            subject = simulate_subject_data(study.simulation, index, study.n_subjects, space)
            if mask_img is None:
                mask_img = analysis_mask(subject.images[0])
                grey = grey_matter_on(subject.images[0], study.anatomy.grey_matter_threshold)
                masks = roi_masks(
                    study.analysis.rois,
                    study.analysis.roi_radius_mm,
                    subject.images[0].affine,
                    grey,
                )
            tr = float(study.design.tr)
            estimates = {}
            for name, section in (
                ("smoothed_average", analysis),
                ("unsmoothed_average", unsmoothed),
            ):
                start = time.perf_counter()
                fit = first_level_step(
                    subject.images,
                    subject.events,
                    subject.confounds,
                    tr,
                    section,
                    mask_img=mask_img,
                )
                table = extract_roi_means(
                    {"s": fit.maps["needleMinusSwab"]["effect"]}, masks, mask_img.affine
                )
                estimates[name] = dict(zip(table["roi"], table["needle_minus_swab"], strict=True))
                seconds[name] += time.perf_counter() - start
            for name, section in (("roi_mean_glm", analysis), ("plain_ols", ols)):
                start = time.perf_counter()
                table = fit_roi_glm(
                    subject.images,
                    subject.events,
                    confound_regressors(subject.confounds, section.confounds),
                    tr,
                    masks,
                    hrf_model=section.hrf_model,
                    drift_model=section.drift_model,
                    high_pass_hz=section.high_pass_hz,
                    noise_model=section.noise_model,
                )
                estimates[name] = dict(zip(table["roi"], table["effect"], strict=True))
                seconds[name] += time.perf_counter() - start
            for estimator, values in estimates.items():
                for roi, value in values.items():
                    rows.append(
                        {
                            "subject": index,
                            "roi": roi,
                            "estimator": estimator,
                            "estimate": value,
                            "true": subject.truth.needle_minus_swab_psc[roi],
                        }
                    )
    table = pd.DataFrame(rows)
    n = study.n_subjects
    print(
        f"{n} subjects, {study.design.n_runs} runs, {study.anatomy.voxel_size_mm} mm, "
        f"smoothing {analysis.smoothing_fwhm_mm} mm, tSNR {study.noise.tsnr}"
    )
    out = []
    for (roi, estimator), group in table.groupby(["roi", "estimator"], sort=False):
        r = float(np.corrcoef(group["estimate"], group["true"])[0, 1])
        out.append(
            {
                "roi": roi,
                "estimator": estimator,
                "r": r,
                "sd_ratio": group["estimate"].std() / group["true"].std(),
            }
        )
    result = pd.DataFrame(out)
    wide = result.pivot(index="roi", columns="estimator", values="r")
    z = np.arctanh(wide)
    print("correlation with the true amplitude:")
    print(wide.round(3).to_string())
    print(f"Fisher z minus smoothed_average (SE of one z: 1/sqrt(n-3) = {1 / np.sqrt(n - 3):.2f}):")
    print((z.sub(z["smoothed_average"], axis=0)).round(3).to_string())
    chosen = "roi_mean_glm"
    steiger = []
    for roi, group in table.groupby("roi", sort=False):
        wide_roi = group.pivot(index="subject", columns="estimator", values="estimate")
        true = group.groupby("subject")["true"].first().loc[wide_roi.index].to_numpy()
        row = {"roi": roi}
        for other in wide_roi.columns.drop(chosen):
            r = np.corrcoef([true, wide_roi[chosen].to_numpy(), wide_roi[other].to_numpy()])
            row[other] = dependent_correlation_z(r[0, 1], r[0, 2], r[1, 2], n)
        steiger.append(row)
    print(
        f"Steiger Z of r({chosen}, truth) against each other estimator's r (dependent "
        "correlations; |Z| > 1.96 is a difference beyond sampling error):"
    )
    print(pd.DataFrame(steiger).set_index("roi").round(2).to_string())
    print("seconds per subject:", {k: round(v / n, 2) for k, v in seconds.items()})


if __name__ == "__main__":
    main()
