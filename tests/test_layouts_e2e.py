"""End to end on layouts nobody here wrote (issue 12): ``snakemake`` with ``analysis.bids_dir``.

Two datasets of :mod:`layouts` (nilearn's own fake-BIDS generator, and one
shaped like OpenNeuro ds006243) are analysed by the real ``snakemake``
command, with every target a study of real data builds (first level, group
maps, ROIs, brain-behaviour statistics and maps, figures, pilot power, the
bottom line), on tiny grids (6 mm), few volumes and subjects and few
permutations, and their outputs are checked for what the layout must give:
the study's conditions mapped from the dataset's trial types, every other
trial type a nuisance regressor named in the participants table, one ROI row
per subject x ROI x selection x score, and a finite pilot power table.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, run_snakemake
from layouts import fake_bids_on_mni_grid, write_ds006243_like

pytestmark = [pytest.mark.e2e, pytest.mark.layouts]

#: Six subjects: 2^6 = 64 sign flips, so the FWE map can reach p < 0.05 with 50 permutations.
N_SUBJECTS = 6
#: The cheapest study the schema allows, on the 6 mm grid of the tiny study (10 mm ROIs
#: hold 19 voxels of it before the grey-matter cut; 8 mm ones only 7).
CHEAP = {
    "analysis": {
        "roi_radius_mm": 10,
        "n_permutations": 50,
        "n_permutations_stats": 99,
        "n_bootstrap": 99,
    },
    "power": {"sample_sizes": [20], "n_studies": 1000, "pilot": {"true_r": [0.3]}},
}


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", na_values="n/a", keep_default_na=False)


def _analyse(dataset: Path, workdir: Path, settings: dict) -> tuple[float, str]:
    """Run the whole workflow on ``dataset``; return its wall time and console output."""
    copy_workflow(workdir)
    config = {
        **settings,
        "analysis": {**CHEAP["analysis"], **settings["analysis"], "bids_dir": str(dataset)},
        "power": CHEAP["power"],
    }
    (workdir / "layout.yaml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    # 36 jobs of 1-8 CPU seconds each (about 200 s in all); a shared machine can stretch
    # that past run_snakemake's usual 15 minutes (22 minutes were measured at load 20-30)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "layout.yaml", timeout=2400)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Traceback" not in output
    return seconds, output


def _check_study(
    workdir: Path,
    subjects: list[str],
    n_runs: dict[str, int],
    tr_s: float,
    nuisance: list[str],
    mapped: dict[str, str],
    n_confounds: int,
) -> None:
    """What every analysed layout must give, whatever its names."""
    results = workdir / "results"
    assert not (results / "bids").exists() and not (results / "truth").exists()
    participants = _table(results / "analysis" / "participants.tsv")
    assert list(participants["participant_id"]) == subjects
    assert set(participants["analysed"]) == {"yes"}
    assert (participants["tr_s"] == tr_s).all()
    assert [len(runs.split(", ")) for runs in participants["runs"]] == [n_runs[s] for s in subjects]
    assert (participants["confound_columns"] == n_confounds).all()
    # every trial type that is neither condition is a nuisance regressor, named
    assert (participants["nuisance_trial_types"] == ", ".join(nuisance)).all()
    glm = results / "derivatives" / "glm"
    for subject in subjects:
        design = _table(next((glm / subject).glob("*_design.tsv")))
        # the dataset's trial types became the study's conditions, the others stayed
        assert {"needle", "swab", *nuisance} <= set(design.columns), subject
        assert not set(mapped) & set(design.columns), subject
        assert design["run"].nunique() == n_runs[subject]
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    rois, scores = list(config["analysis"]["rois"]), list(config["analysis"]["scores"])
    roi = _table(results / "roi" / "roi_contrasts.tsv")
    # independent and group_peak: one row per ROI; behaviour_peak and cross_validated:
    # one per ROI x score, for every subject
    per_subject = roi.groupby("participant_id").size()
    assert dict(per_subject) == {s: (2 + 2 * len(scores)) * len(rois) for s in subjects}
    assert np.isfinite(roi["needle_minus_swab"]).all()
    assert (roi["n_voxels"] >= config["analysis"]["min_roi_voxels"]).all()
    stats = _table(results / "stats" / "brain_behaviour.tsv")
    assert (stats["n"] == len(subjects)).all() and np.isfinite(stats["r"]).all()
    power = _table(results / "power" / "power.tsv")
    assert set(power["true_r"]) == set(CHEAP["power"]["pilot"]["true_r"])
    assert set(power["sample_size"]) == {*CHEAP["power"]["sample_sizes"], len(subjects)}
    assert len(power) == 2 * len(rois) * len(scores)
    assert np.isfinite(power["power"]).all() and power["power"].between(0, 1).all()
    pilot = _table(results / "power" / "pilot_measurement.tsv")
    assert list(pilot["measure"]) == rois + scores
    assert pilot["reliability"].between(0, 1).all()
    assert (results / "conclusion.md").read_text().startswith("- Finding: ")
    assert (results / "figures" / "group_map.png").is_file()


def test_nilearn_fake_bids_dataset_runs_end_to_end(tmp_path):
    # nilearn's layout: derivatives straight under derivatives/, two sessions of one run,
    # spaces MNI and T1w, trial types c0 c1 c2, TR 1.5 s in the raw sidecars only
    dataset = fake_bids_on_mni_grid(tmp_path / "nilearn", N_SUBJECTS, voxel_mm=6)
    subjects = [f"sub-{i:02d}" for i in range(1, N_SUBJECTS + 1)]
    seconds, _ = _analyse(
        dataset,
        tmp_path / "study",
        {
            "task_name": "empathy",
            "analysis": {
                "derivatives": "derivatives",
                "space": "MNI",
                "conditions": {"needle": ["c0"], "swab": ["c1"]},
                "confounds": {
                    "strategy": ["motion", "wm_csf"],
                    "motion": "basic",
                    "wm_csf": "basic",
                },
            },
        },
    )
    print(f"nilearn fake dataset: {seconds:.0f} s end to end")
    _check_study(
        tmp_path / "study",
        subjects,
        dict.fromkeys(subjects, 2),
        1.5,
        ["c2"],
        {"c0": "needle", "c1": "swab"},
        n_confounds=8,
    )


def test_ds006243_like_dataset_runs_end_to_end(tmp_path):
    # fMRIPrep's names and full confounds, runs that differ between subjects, TR 2.5 s,
    # other-pain / other-no-pain with cue, anticipation and self trials; a 3 psc
    # other-pain effect planted in 10 mm spheres at the a-priori ROIs
    rois = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())["analysis"][
        "rois"
    ]
    runs = {f"sub-{i:02d}": 1 + i % 2 for i in range(1, N_SUBJECTS + 1)}
    dataset = write_ds006243_like(
        tmp_path / "ds006243", runs, voxel_mm=6, n_scans=60, effect=rois, effect_psc=3.0
    )
    seconds, _ = _analyse(
        dataset,
        tmp_path / "study",
        {
            "task_name": "pain",
            "analysis": {
                "derivatives": "derivatives/fmriprep",
                "space": "MNI152NLin2009cAsym",
                "conditions": {"needle": ["otherpain"], "swab": ["othernopain"]},
                "confounds": {
                    "strategy": ["motion", "wm_csf"],
                    "motion": "full",
                    "wm_csf": "basic",
                },
            },
        },
    )
    print(f"ds006243-like dataset: {seconds:.0f} s end to end")
    _check_study(
        tmp_path / "study",
        list(runs),
        runs,
        2.5,
        ["cue", "anticipation", "selfpain", "selfnopain"],
        {"otherpain": "needle", "othernopain": "swab"},
        n_confounds=26,
    )
    # the mapping has the right sign: other-pain minus other-no-pain recovers the planted
    # effect in the a-priori ROIs. Each subject's estimate is the planted 3 psc plus its
    # measurement error, so the mean over subjects lies within 4 of its standard errors
    # (from the subjects' spread) of 3 psc, less the ~1% the psc baseline gains from the
    # effect's own mean; a swapped mapping would give about -3
    roi = _table(tmp_path / "study" / "results" / "roi" / "roi_contrasts.tsv")
    independent = roi[roi["selection"] == "independent"]
    for name, values in independent.groupby("roi")["needle_minus_swab"]:
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - 3.0) < 4 * se + 0.05 * 3.0, (name, values.mean(), se)
