"""Null studies of the four ROI selections: false-positive rate and mean |r| per selection.

A null study here has the configured needle-minus-swab effects (so the group
map and the group-peak ROIs look as usual) but every trait coupling 0: no
ROI amplitude and no dilemma score is related to the latent trait, so every
brain-behaviour correlation is truly zero. Each study runs the workflow's own
in-memory steps (``empathy_fmri.pipeline``): simulation, first level, group
map, ROI definitions of all four selections, ROI-mean GLMs, correlations with
permutation p and Holm across the ROI x score family.

The first levels are the expensive part, so each simulated set of subjects
(a *map set*) is analysed with several independent draws of the dilemma
scores (fresh participants' behaviour from the same population, independent
of the brain by construction): every draw is a complete null study, with its
own behaviour-selected and cross-fitted ROIs. Draws that share a map set are
independent given the maps, and under the null the a-priori and the
cross-fitted test are exact given the maps, so their rates stay binomial; the
printed standard errors are binomial over all studies, and a second SE from
the spread between map sets shows whether sharing maps widened it.

Run from the repository root (2 cores: about 50 minutes at the defaults)::

    python bench/bench_selection_null.py --map-sets 10 --draws 20 --jobs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _null_config(args: argparse.Namespace) -> dict:
    import yaml

    from empathy_fmri.pipeline.study_config import check_study_config

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for model in config["signal"]["rois"].values():
        model["trait_coupling"] = 0.0
    config["behaviour"]["D_trait_coupling"] = 0.0
    config["behaviour"]["U_trait_coupling"] = 0.0
    config["n_subjects"] = args.n_subjects
    config["anatomy"]["voxel_size_mm"] = args.voxel_size
    config["analysis"]["roi_radius_mm"] = args.roi_radius
    config["analysis"]["n_permutations"] = args.n_permutations
    config["analysis"]["n_permutations_stats"] = args.n_permutations_stats
    config["analysis"]["n_bootstrap"] = args.n_bootstrap
    return check_study_config(config)


def _map_set(job: tuple[dict, int, int]) -> pd.DataFrame:
    """Simulate one set of subjects, fit it once, analyse it with ``draws`` score draws."""
    from threadpoolctl import threadpool_limits

    from empathy_fmri.analysis.first_level import analysis_mask
    from empathy_fmri.config import StudyConfig
    from empathy_fmri.pipeline.brain_behaviour import brain_behaviour_step
    from empathy_fmri.pipeline.first_level import first_level_step
    from empathy_fmri.pipeline.group import group_step
    from empathy_fmri.pipeline.roi import (
        masks_from_centres,
        roi_definitions,
        roi_glm_step,
        roi_step,
    )
    from empathy_fmri.pipeline.simulated_subject import simulate_subject_data
    from empathy_fmri.simulation.population import draw_subject, subject_behaviour
    from empathy_fmri.simulation.subject import build_space

    config, map_set, draws = job
    study = StudyConfig.from_dict({**config, "seed": config["seed"] + 7919 * (map_set + 1)})
    simulation, analysis, anatomy = study.simulation, study.analysis, study.anatomy
    threshold = anatomy.grey_matter_threshold
    tr_s = float(study.design.tr)
    rows = []
    with threadpool_limits(1):
        space = build_space(anatomy, study.regions, study.signal)
        subjects, effects = {}, {}
        mask_img = None
        for index in range(study.n_subjects):
            subject = simulate_subject_data(simulation, index, study.n_subjects, space)
            if mask_img is None:
                mask_img = analysis_mask(subject.images[0])
            fit = first_level_step(
                subject.images, subject.events, subject.confounds, tr_s, analysis, mask_img=mask_img
            )
            participant = subject.truth.participant_id
            subjects[participant] = subject
            effects[participant] = fit.maps["needleMinusSwab"]["effect"]
        group = group_step(list(effects.values()), analysis, study.seed, mask_img=mask_img)
        fixed = roi_definitions(
            group.z, anatomy, analysis, selections=("independent", "group_peak")
        )
        fixed_fits = {
            p: roi_glm_step(
                s.images,
                s.events,
                s.confounds,
                tr_s,
                analysis,
                masks_from_centres(fixed, group.z, threshold, p),
            )
            for p, s in subjects.items()
        }
        for draw in range(draws):
            # fresh participants' behaviour, independent of these brains
            people = dataclasses.replace(simulation, seed=study.seed + 104729 * (draw + 1))
            phenotype = pd.DataFrame(
                [
                    {
                        "participant_id": p,
                        **subject_behaviour(
                            people.seed,
                            people.behaviour,
                            i,
                            draw_subject(people, i, study.n_subjects),
                        ),
                    }
                    for i, p in enumerate(subjects)
                ]
            ).set_index("participant_id")
            chosen = roi_definitions(
                group.z,
                anatomy,
                analysis,
                effect_imgs=effects,
                phenotype=phenotype,
                selections=("behaviour_peak", "cross_validated"),
            )
            fits = {
                p: pd.concat(
                    [
                        fixed_fits[p],
                        roi_glm_step(
                            s.images,
                            s.events,
                            s.confounds,
                            tr_s,
                            analysis,
                            masks_from_centres(chosen, group.z, threshold, p),
                        ),
                    ],
                    ignore_index=True,
                )
                for p, s in subjects.items()
            }
            centres = pd.concat([fixed, chosen], ignore_index=True)
            table = roi_step(effects, centres, group.z, threshold, analysis, fits)
            correlations = brain_behaviour_step(table, phenotype, analysis, study.seed + draw)
            rows.append(correlations.assign(map_set=map_set, draw=draw))
    return pd.concat(rows, ignore_index=True)


def summarise(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per selection: studies, mean |r|, P(p < alpha) and family-wise P(p_holm < alpha)."""
    out = []
    for selection, group in table.groupby("selection", sort=False):
        per_study = group.groupby(["map_set", "draw"])
        k = per_study.ngroups
        rate = float((group["p"] < alpha).mean())
        pairs = len(group)
        fwe = per_study["p_corrected"].min().lt(alpha)
        by_map = group.assign(hit=group["p"] < alpha).groupby("map_set")["hit"].mean()
        out.append(
            {
                "selection": selection,
                "studies": k,
                "mean_abs_r": float(group["r"].abs().mean()),
                "false_positive_rate": rate,
                "se_binomial": float(np.sqrt(alpha * (1 - alpha) / pairs)),
                "se_between_map_sets": float(by_map.std(ddof=1) / np.sqrt(len(by_map))),
                "family_wise_holm": float(fwe.mean()),
                "family_wise_holm_se": float(np.sqrt(alpha * (1 - alpha) / k)),
            }
        )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map-sets", type=int, default=10)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n-subjects", type=int, default=19)
    parser.add_argument(
        "--voxel-size",
        type=int,
        default=6,
        help="grid of the studies (mm); the replicates' default",
    )
    parser.add_argument(
        "--roi-radius",
        type=float,
        default=10.0,
        help="ROI sphere radius (mm); at 6 mm an 8 mm sphere at the "
        "default IFG_L holds 3 grey-matter voxels",
    )
    parser.add_argument(
        "--n-permutations", type=int, default=200, help="sign flips of each group map"
    )
    parser.add_argument(
        "--n-permutations-stats",
        type=int,
        default=1000,
        help="permutations of each correlation's p",
    )
    parser.add_argument(
        "--n-bootstrap",
        type=int,
        default=100,
        help="bootstrap resamples (the CIs are not used here)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="also write every correlation to this TSV"
    )
    args = parser.parse_args()
    config = _null_config(args)
    start = time.perf_counter()
    jobs = [(config, m, args.draws) for m in range(args.map_sets)]
    if args.jobs > 1:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
            tables = list(pool.map(_map_set, jobs))
    else:
        tables = [_map_set(job) for job in jobs]
    table = pd.concat(tables, ignore_index=True)
    seconds = time.perf_counter() - start
    if args.out:
        table.to_csv(args.out, sep="\t", index=False)
    summary = summarise(table, config["analysis"]["alpha"])
    print(
        f"null studies: {args.map_sets} map sets x {args.draws} score draws, "
        f"{args.n_subjects} subjects, {args.voxel_size} mm grid, {args.roi_radius:g} mm ROIs; "
        "every trait coupling 0"
    )
    print(f"wall time {seconds:.0f} s on {args.jobs} processes")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
