"""End to end: the real `snakemake` command on the tiny config, as a user runs it."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from conftest import job_counts, run_snakemake, validator_errors
from scipy import stats

from empathy_fmri.jobs.logs import read_job_usage

pytestmark = pytest.mark.e2e

#: Rules allowed to read results/truth/: the simulator that writes it and the
#: validation and power rules that grade the analysis against it.
TRUTH_READERS = ("simulate_", "validate_", "power_", "replicate", "all")


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", na_values="n/a")


def test_outputs_and_logs_exist(tiny_run: Path):
    results = tiny_run / "results"
    for relative in [
        "bids/dataset_description.json",
        "bids/participants.tsv",
        "bids/phenotype/moral_dilemmas.tsv",
        "bids/sub-01/func/sub-01_task-empathy_run-1_bold.nii.gz",
        "bids/sub-01/func/sub-01_task-empathy_run-1_events.tsv",
        "bids/task-empathy_bold.json",
        "bids/derivatives/fmriprep/dataset_description.json",
        "bids/derivatives/fmriprep/sub-01/func/"
        "sub-01_task-empathy_run-1_space-MNI152NLin2009aAsym_desc-preproc_bold.nii.gz",
        "bids/derivatives/fmriprep/sub-01/func/"
        "sub-01_task-empathy_run-1_space-MNI152NLin2009aAsym_desc-preproc_bold.json",
        "bids/derivatives/fmriprep/sub-01/func/"
        "sub-01_task-empathy_run-1_space-MNI152NLin2009aAsym_desc-brain_mask.nii.gz",
        "bids/derivatives/fmriprep/sub-01/func/"
        "sub-01_task-empathy_run-1_desc-confounds_timeseries.tsv",
        "truth/participants_truth.tsv",
        "truth/population_correlations.tsv",
        "truth/region-IFG_L_mask.nii.gz",
        "validation/roi_placement.tsv",
        "validation/selections.png",
        "derivatives/glm/sub-01/sub-01_task-empathy_contrast-needleMinusSwab_stat-effect_statmap.nii.gz",
        "derivatives/glm/sub-01/sub-01_task-empathy_contrast-video_stat-z_statmap.nii.gz",
        "derivatives/glm/sub-01/sub-01_task-empathy_design.tsv",
        "derivatives/glm/sub-01/sub-01_task-empathy_design.png",
        "derivatives/glm/group/task-empathy_contrast-needleMinusSwab_desc-fwe_stat-z_statmap.nii.gz",
        "derivatives/glm/group/task-empathy_contrast-needleMinusSwab_desc-fwe_clusters.tsv",
        "derivatives/glm/group/"
        "task-empathy_contrast-needleMinusSwab_score-willingnessToHarm_stat-r_statmap.nii.gz",
        "derivatives/glm/group/"
        "task-empathy_contrast-needleMinusSwab_score-D_desc-fwe_stat-logp_statmap.nii.gz",
        "derivatives/glm/group/task-empathy_contrast-needleMinusSwab_score-U_desc-fwe_clusters.tsv",
        "roi/roi_contrasts.tsv",
        "analysis/reliability.tsv",
        "validation/reliability.tsv",
        "stats/brain_behaviour.tsv",
        "stats/brain_behaviour.json",
    ]:
        assert (results / relative).is_file(), relative
    for log in [
        "simulate_metadata.log",
        "simulate_subject/sub-01.log",
        "first_level/sub-01.log",
        "group_level.log",
        "roi_contrasts.log",
        "reliability.log",
        "validate_reliability.log",
        "brain_behaviour.log",
        "behaviour_map/willingnessToHarm.log",
    ]:
        text = (tiny_run / "logs" / log).read_text()
        assert "done in" in text, log
        # every job states its cost; a Python job holds at least numpy (> 20 MB)
        usage = read_job_usage(tiny_run / "logs" / log)
        assert usage is not None and usage["cpu_s"] > 0 and usage["peak_mb"] > 20, (log, usage)
    leftovers = list(results.rglob(".tmp-*"))
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_bold_header(tiny_run: Path, tiny_config):
    image = nib.load(tiny_run / "results/bids/sub-01/func/sub-01_task-empathy_run-1_bold.nii.gz")
    assert image.ndim == 4
    assert image.header.get_zooms()[3] == pytest.approx(tiny_config["design"]["tr"])
    assert image.header.get_xyzt_units() == ("mm", "sec")
    assert image.header["sform_code"] == 4


def test_bids_validator_reports_no_error(tiny_run: Path):
    bids = tiny_run / "results" / "bids"
    # the raw dataset, and the fMRIPrep-style derivative on its own (which
    # reads the derivative's .bidsignore for the confound time series)
    assert validator_errors(str(bids)) == []
    assert validator_errors(str(bids / "derivatives" / "fmriprep")) == []
    assert validator_errors("--recursive", str(bids)) == []


def test_first_level_from_bids_reads_the_simulated_dataset(tiny_run: Path, tiny_config):
    # nilearn's own BIDS reader finds the preprocessed runs, the TR (from the
    # sidecars) and the confounds without being told
    from nilearn.glm.first_level import first_level_from_bids

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models, images, events, confounds = first_level_from_bids(
            str(tiny_run / "results" / "bids"),
            tiny_config["task_name"],
            space_label="MNI152NLin2009aAsym",
            derivatives_folder="derivatives/fmriprep",
        )
    assert len(models) == tiny_config["n_subjects"]
    assert models[0].t_r == pytest.approx(tiny_config["design"]["tr"])
    assert len(images[0]) == tiny_config["design"]["n_runs"]
    assert set(events[0][0]["trial_type"]) == {"needle", "swab"}
    assert {"trans_x", "rot_z", "framewise_displacement"} <= set(confounds[0][0].columns)


def test_roi_table_columns(tiny_run: Path, tiny_config):
    table = _table(tiny_run / "results/roi/roi_contrasts.tsv")
    assert {"participant_id", "roi", "selection", "needle_minus_swab", "n_voxels"} <= set(
        table.columns
    )
    selections = {"independent", "group_peak", "behaviour_peak", "cross_validated"}
    assert set(table["selection"]) == selections
    assert set(table["roi"]) == set(tiny_config["analysis"]["rois"])
    n_rois, n_subjects = len(tiny_config["analysis"]["rois"]), tiny_config["n_subjects"]
    n_scores = len(tiny_config["analysis"]["scores"])
    # one definition per ROI for independent and group_peak, one per ROI x score for the others
    assert len(table) == (2 + 2 * n_scores) * n_rois * n_subjects
    assert table["score"].notna().all()  # "all", never an empty cell read back as NaN
    assert set(table.loc[table["selection"].isin(["independent", "group_peak"]), "score"]) == {
        "all"
    }
    assert table["needle_minus_swab"].notna().all()
    centres = _table(tiny_run / "results/roi/roi_centres.tsv")
    assert set(centres["selection"]) == selections
    assert {"score", "participant_id"} <= set(centres.columns)
    left_out = centres[centres["selection"] == "cross_validated"]
    assert len(left_out) == n_rois * n_scores * n_subjects
    assert set(left_out["participant_id"]) == set(table["participant_id"])


def test_split_half_reliability_of_every_roi_estimate(tiny_run: Path, tiny_config):
    """reliability.tsv: one row per ROI x selection x score, ICC(3,1) of roi_contrasts' halves."""
    from empathy_fmri.analysis.reliability import icc_consistency

    table = _table(tiny_run / "results/analysis/reliability.tsv")
    assert list(table.columns) == [
        "roi",
        "selection",
        "score",
        "estimate",
        "split",
        "n_subjects",
        "mean_half1",
        "mean_half2",
        "icc",
        "icc_ci_low",
        "icc_ci_high",
        "spearman_brown",
        "sb_ci_low",
        "sb_ci_high",
    ]
    rois = _table(tiny_run / "results/roi/roi_contrasts.tsv")
    halves = ["needle_minus_swab_half1", "needle_minus_swab_half2"]
    assert {"split", "variance_half1", "variance_half2", *halves} <= set(rois.columns)
    assert rois[halves].notna().all().all()
    per_subject = _table(
        tiny_run / "results/roi/sub-01/sub-01_task-empathy_contrast-needleMinusSwab_roiglm.tsv"
    )
    assert {"split", "effect_half1", "variance_half1", "effect_half2"} <= set(per_subject.columns)
    keys = ["roi", "selection", "score"]
    expected = rois[keys].drop_duplicates()
    assert (
        len(table)
        == len(expected)
        == (2 + 2 * len(tiny_config["analysis"]["scores"])) * len(tiny_config["analysis"]["rois"])
    )
    assert set(map(tuple, table[keys].to_numpy())) == set(map(tuple, expected.to_numpy()))
    # the tiny design has one run: its blocks are split
    assert tiny_config["design"]["n_runs"] == 1
    assert set(table["split"]) == {"odd_vs_even_blocks"}
    assert (table["n_subjects"] == tiny_config["n_subjects"]).all()
    assert table["icc"].between(-1, 1).all()
    assert (table["icc_ci_low"] <= table["icc"]).all() and (
        table["icc"] <= table["icc_ci_high"]
    ).all()
    assert (table["sb_ci_low"] <= table["spearman_brown"]).all()
    assert (table["spearman_brown"] <= table["sb_ci_high"]).all()
    np.testing.assert_allclose(
        table["spearman_brown"], 2 * table["icc"] / (1 + table["icc"]), rtol=1e-4
    )
    for row in table.itertuples():
        subset = rois[
            (rois["roi"] == row.roi)
            & (rois["selection"] == row.selection)
            & (rois["score"] == row.score)
        ]
        # the TSV holds 6 significant digits
        assert row.icc == pytest.approx(icc_consistency(subset[halves]).icc, abs=1e-4)


def test_split_half_reliability_agrees_with_the_true_reliability(tiny_run: Path, tiny_config):
    """For the a-priori ROIs, the split-half estimate is within its sampling error of the truth.

    The true reliability of a half is the squared correlation over subjects of
    its estimate with the subject's true amplitude; of all the data, that of
    the all-data estimate. Each has a 95% Fisher interval, and the ICC (and its
    Spearman-Brown projection) a 95% F interval: the two intervals must
    overlap. For two unbiased estimates with equal standard errors, disjoint
    95% intervals mean a difference of more than 2.77 standard errors of the
    difference (p < 0.006). What the halves of one run share besides the
    region's amplitude (the run's own amplitude, neighbouring signal) can only
    raise the ICC; that is not what this catches, but halves that do not
    measure the same thing, or a projection or interval gone wrong, would.
    """
    graded = _table(tiny_run / "results/validation/reliability.tsv")
    analysis = _table(tiny_run / "results/analysis/reliability.tsv")
    assert len(graded) == len(analysis)
    assert graded[["roi", "selection", "score", "icc"]].equals(
        analysis[["roi", "selection", "score", "icc"]]
    )
    independent = graded[graded["selection"] == "independent"]
    assert len(independent) == len(tiny_config["analysis"]["rois"])
    for row in independent.itertuples():
        for half in ("half1", "half2"):
            low = getattr(row, f"true_reliability_{half}_ci_low")
            high = getattr(row, f"true_reliability_{half}_ci_high")
            assert low <= getattr(row, f"true_reliability_{half}") <= high
            assert max(low, row.icc_ci_low) <= min(high, row.icc_ci_high), (row.roi, half)
        low, high = row.true_reliability_full_ci_low, row.true_reliability_full_ci_high
        assert max(low, row.sb_ci_low) <= min(high, row.sb_ci_high), (row.roi, "full")
        # the measurement model's reliability of the all-data estimate is beside it
        assert 0 <= row.model_reliability_full <= 1
    assert graded.loc[graded["selection"] != "independent", "model_reliability_full"].isna().all()


def test_brain_behaviour_table_matches_inputs(tiny_run: Path, tiny_config):
    table = _table(tiny_run / "results/stats/brain_behaviour.tsv")
    expected_columns = {
        "roi",
        "selection",
        "score",
        "n",
        "r",
        "ci_low",
        "ci_high",
        "p",
        "p_corrected",
        "spearman_rho",
        "bootstrap_ci_low",
        "bootstrap_ci_high",
    }
    assert expected_columns <= set(table.columns)
    # roi x selection x score: each selection has one row per ROI x score
    assert set(table["selection"]) == {
        "independent",
        "group_peak",
        "behaviour_peak",
        "cross_validated",
    }
    assert len(table) == 4 * len(tiny_config["analysis"]["rois"]) * 3
    rois = _table(tiny_run / "results/roi/roi_contrasts.tsv")
    phenotype = _table(tiny_run / "results/bids/phenotype/moral_dilemmas.tsv")
    merged = rois.merge(phenotype, on="participant_id")
    for row in table.itertuples():
        subset = merged[
            (merged["roi"] == row.roi)
            & (merged["selection"] == row.selection)
            & merged["score"].isin(["all", row.score])
        ]
        assert len(subset) == tiny_config["n_subjects"]
        r = stats.pearsonr(subset["needle_minus_swab"], subset[row.score]).statistic
        assert row.r == pytest.approx(r, abs=1e-5)
        assert row.ci_low <= row.r <= row.ci_high
        assert row.p <= row.p_corrected <= 1
    payload = json.loads((tiny_run / "results/stats/brain_behaviour.json").read_text())
    assert len(payload["results"]) == len(table)
    assert len(payload["config_hash"]) == 12


def test_behaviour_maps_correlate_each_subjects_map_with_their_own_score(
    tiny_run: Path, tiny_config
):
    """The r map of every score is Pearson r of the first-level maps and the phenotype rows.

    Pairing maps and scores by participant_id is what this checks: a shuffle
    would change r by far more than the float32 rounding (below 1e-6).
    """
    glm = tiny_run / "results/derivatives/glm"
    phenotype = _table(tiny_run / "results/bids/phenotype/moral_dilemmas.tsv")
    subjects = sorted(phenotype["participant_id"])
    maps = np.stack(
        [
            nib.load(
                glm / s / f"{s}_task-empathy_contrast-needleMinusSwab_stat-effect_statmap.nii.gz"
            ).get_fdata()
            for s in subjects
        ],
        axis=-1,
    )
    inside = np.argwhere(np.abs(maps).sum(axis=-1) > 0)
    voxels = inside[np.random.default_rng(0).choice(len(inside), 10, replace=False)]
    for score, label in [("willingness_to_harm", "willingnessToHarm"), ("D", "D"), ("U", "U")]:
        stem = f"task-empathy_contrast-needleMinusSwab_score-{label}"
        r_map = nib.load(glm / "group" / f"{stem}_stat-r_statmap.nii.gz").get_fdata()
        values = phenotype.set_index("participant_id").loc[subjects, score].to_numpy()
        for voxel in voxels:
            expected = stats.pearsonr(maps[tuple(voxel)], values).statistic
            assert r_map[tuple(voxel)] == pytest.approx(expected, abs=1e-5), (score, voxel)
        summary = json.loads((glm / "group" / f"{stem}_summary.json").read_text())
        assert summary["n_subjects"] == tiny_config["n_subjects"]
        clusters = _table(glm / "group" / f"{stem}_desc-fwe_clusters.tsv")
        assert len(clusters) == summary["n_clusters_fwe"]


def test_strong_effect_is_found_in_every_roi(tiny_run: Path, tiny_config):
    """At the tiny config's strong, high-tSNR effect the analysis must find it.

    The FWE map must reach into every simulated region with the strong effect,
    whatever the a-priori ROIs do. Each a-priori ROI sits 5-12 mm off its
    region and holds only part of it, so its estimate tracks the true amplitude
    only as closely as the calibrated measurement model predicts: correlation
    sqrt(reliability_brain). The observed r must agree with that within 3
    standard errors of Fisher's z (1 / sqrt(n - 3) at n = 10), which fails if
    the estimate stops tracking the truth (r = 0 against a predicted 0.9 is 4
    SE away) or tracks it far better than the model allows.
    """
    z_fwe = nib.load(
        tiny_run / "results/derivatives/glm/group/"
        "task-empathy_contrast-needleMinusSwab_desc-fwe_stat-z_statmap.nii.gz"
    ).get_fdata()
    truth = _table(tiny_run / "results/truth/participants_truth.tsv")
    rois = _table(tiny_run / "results/roi/roi_contrasts.tsv")
    model = _table(tiny_run / "results/power/measurement_model.tsv").set_index("roi")
    independent = rois[rois["selection"] == "independent"]
    for name in tiny_config["analysis"]["rois"]:
        assert tiny_config["signal"]["rois"][name]["mean_psc"] >= 2.0
        mask = nib.load(tiny_run / f"results/truth/region-{name}_mask.nii.gz").get_fdata() > 0
        assert (z_fwe[mask] > 0).any(), f"no FWE-significant voxel in {name}"
        estimates = independent[independent["roi"] == name].merge(truth, on="participant_id")
        r = np.corrcoef(estimates["needle_minus_swab"], estimates[f"true_{name}"])[0, 1]
        predicted = np.sqrt(model.loc[name, "reliability_brain"])
        se = 1 / np.sqrt(len(estimates) - 3)
        assert abs(np.arctanh(r) - np.arctanh(predicted)) < 3 * se, (name, r, predicted)


def test_analysis_rules_never_read_the_truth(tiny_run: Path):
    result = run_snakemake(tiny_run, "--detailed-summary", "--configfile", "tiny_config.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split("\t")
    rule_column, input_column = header.index("rule"), header.index("input-file(s)")
    checked = set()
    seen_bold_input = False
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) <= input_column:
            continue
        rule = fields[rule_column]
        checked.add(rule)
        inputs = fields[input_column].split(",")
        seen_bold_input |= rule == "first_level" and any("_bold.nii.gz" in p for p in inputs)
        if rule.startswith(TRUTH_READERS):
            continue
        reading_truth = [path for path in inputs if "results/truth/" in path]
        assert not reading_truth, f"rule {rule} reads the truth: {reading_truth[:3]}"
    assert {
        "first_level",
        "group_level",
        "roi_contrasts",
        "brain_behaviour",
        "behaviour_map",
    } <= checked
    assert seen_bold_input, "the summary did not list the first level's inputs"


def test_run_ends_with_what_it_built_the_bottom_line_and_the_warnings(tiny_run: Path):
    """The console's last words: files and figures on disk, conclusion.md, then warnings.md."""
    stdout = (tiny_run / "tiny_run.stdout").read_text()
    conclusion = (tiny_run / "results" / "conclusion.md").read_text().strip()
    warnings = (tiny_run / "results" / "warnings.md").read_text().strip()
    assert "empathy-fmri: done. This run wrote " in stdout
    n_figures = sum(
        len(list((tiny_run / "results" / folder).glob("*.png")))
        for folder in ("figures", "validation", "power")
    )
    assert f"{n_figures} figures in results/figures, results/validation, results/power" in stdout
    assert "Bottom line (results/conclusion.md):" in stdout
    assert stdout.rstrip().endswith(
        f"{conclusion}\n\nWarnings (results/warnings.md):\n\n{warnings}"
    )
    assert "Graded against the simulated truth: " in conclusion
    # the tiny study: every participant analysed, 300 permutations are just enough
    # for Holm over its 15 pairs (1/301 x 15 < 0.05), simulated inputs without a doubt
    assert warnings.startswith("- No warnings: ")


def test_second_run_has_nothing_to_do(tiny_run: Path):
    result = run_snakemake(tiny_run, "-n", "--configfile", "tiny_config.yaml")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


#: Rules whose outputs do not depend on the noise: the people and their dilemma
#: scores, the events, and the figures drawn from the events and the config alone.
NOISE_FREE = {"simulate_phenotype", "simulate_events", "figure_task_timeline", "figure_rois"}


def test_a_noise_change_reruns_exactly_what_depends_on_the_noise(tiny_run: Path):
    """And the default profile's console shows each job's message, not its Reason: line."""
    every = run_snakemake(
        tiny_run, "-n", "-F", "--configfile", "tiny_config.yaml", "--quiet", "rules"
    )
    assert every.returncode == 0, every.stderr[-2000:]
    everything = job_counts(every.stdout + every.stderr)
    assert NOISE_FREE <= set(everything)
    noisy = run_snakemake(
        tiny_run, "-n", "--configfile", "tiny_config.yaml", "--config", "noise={tsnr: 250}"
    )
    assert noisy.returncode == 0, noisy.stderr[-2000:]
    output = noisy.stdout + noisy.stderr
    expected = {rule: n for rule, n in everything.items() if rule not in NOISE_FREE}
    assert job_counts(output) == expected
    assert "Reason:" not in output
    assert "First-level GLM of sub-01" in output  # the job's message stays


@pytest.mark.layouts  # a second complete analysis (~2 min): outside the default run (CI budget)
def test_analysis_runs_unchanged_on_another_bids_dataset(
    tiny_run: Path, tmp_path: Path, tiny_config
):
    """Point analysis.bids_dir at a BIDS dataset: it is analysed, nothing simulated or graded.

    The copy keeps only the raw dilemma counts of the phenotype file, as a
    lab's may: ``analysis.dilemmas`` scores them, and every result must be
    the simulated run's.
    """
    import yaml
    from conftest import TINY_CONFIG, copy_workflow

    from empathy_fmri.io.phenotype import DILEMMA_SCORES

    dataset = tmp_path / "other_dataset"
    shutil.copytree(tiny_run / "results" / "bids", dataset)
    phenotype = dataset / "phenotype" / "moral_dilemmas.tsv"
    simulated_scores = _table(phenotype).set_index("participant_id")
    _table(phenotype).drop(columns=list(DILEMMA_SCORES)).to_csv(phenotype, sep="\t", index=False)
    workdir = copy_workflow(tmp_path / "analysis_only")
    overrides = yaml.safe_load(TINY_CONFIG.read_text())
    overrides["analysis"]["bids_dir"] = str(dataset)
    overrides["analysis"]["dilemmas"] = {
        "congruent_rejected": "congruent_harm_rejected",
        "incongruent_rejected": "incongruent_harm_rejected",
        "n_congruent": 10,
        "n_incongruent": 10,
    }
    (workdir / "external.yaml").write_text(yaml.safe_dump(overrides))
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "external.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "results/stats/brain_behaviour.tsv").is_file()
    assert (workdir / "results/figures/group_map.png").is_file()
    assert not (workdir / "results/bids").exists()
    assert not (workdir / "results/truth").exists()
    assert not (workdir / "results/validation").exists()
    # the copy is found on disk by the query layer (the simulated path plans the
    # same files from the config): the same ROI table, byte for byte
    assert (workdir / "results/roi/roi_contrasts.tsv").read_bytes() == (
        tiny_run / "results/roi/roi_contrasts.tsv"
    ).read_bytes()
    participants = _table(workdir / "results/analysis/participants.tsv")
    assert len(participants) == tiny_config["n_subjects"]
    assert set(participants["analysed"]) == {"yes"}
    assert (participants["tr_s"] == tiny_config["design"]["tr"]).all()
    assert (participants["confound_columns"] == 6).all()  # motion: basic
    assert set(participants["nuisance_trial_types"]) == {"none"}
    # the scores computed from the counts are the simulator's (its file holds them to
    # %.6g: a relative error of at most 5e-6), and so are the correlations on them
    scored = participants.set_index("participant_id")
    for score in ("U", "D", "willingness_to_harm"):
        np.testing.assert_allclose(
            scored[score], simulated_scores.loc[scored.index, score], rtol=5e-6, atol=0
        )
    assert list(scored["pd_edge_case"]) == list(simulated_scores.loc[scored.index, "pd_edge_case"])
    ours, theirs = (
        _table(root / "results/stats/brain_behaviour.tsv") for root in (workdir, tiny_run)
    )
    assert ours[["roi", "selection", "score"]].equals(theirs[["roi", "selection", "score"]])
    # the file's scores are the computed ones rounded to 6 digits (5e-6 relative): r and
    # its intervals move by about that (1e-6 measured here), the ranks not at all (equal
    # scores tie, see io/phenotype.py), and the permutation and bootstrap draws are the
    # same (same seed, same order); these data are fixed, so the p values are too
    for column in ("r", "ci_low", "ci_high", "bootstrap_ci_low", "bootstrap_ci_high"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=0, atol=1e-4)
    for column in ("spearman_rho", "p", "p_corrected"):
        np.testing.assert_array_equal(ours[column], theirs[column])
    # the a-priori ROIs were measured on the dataset's grid inside its masks: the
    # simulator's masks are the MNI152 brain, so each count is the ROI's own size
    coverage = _table(workdir / "results/analysis/roi_coverage.tsv")
    centres = _table(workdir / "results/roi/roi_centres.tsv")
    sizes = centres[centres["selection"] == "independent"].set_index("roi")["n_voxels"]
    for roi, counts in coverage.groupby("roi"):
        assert set(counts["n_voxels"]) == {sizes[roi]}, roi
    assert len(coverage) == len(sizes) * tiny_config["n_subjects"] * tiny_config["design"]["n_runs"]
    # power holds for real data: from the dataset as a pilot, at power.pilot.true_r
    pilot = _table(workdir / "results/power/pilot_measurement.tsv")
    assert list(pilot["measure"]) == list(tiny_config["analysis"]["rois"]) + list(
        tiny_config["analysis"]["scores"]
    )
    assert pilot["reliability"].between(0, 1).all()
    # its error variance is the simulated run's calibrated (noise) error: same data, same c
    simulated = _table(tiny_run / "results/power/measurement_model.tsv").set_index("roi")
    rois = pilot[pilot["kind"] == "roi"].set_index("measure")
    np.testing.assert_allclose(rois["error_sd"], simulated.loc[rois.index, "noise_error_sd_psc"])
    power = _table(workdir / "results/power/power.tsv")
    assert set(power["true_r"]) == set(tiny_config["power"]["pilot"]["true_r"])
    assert tiny_config["n_subjects"] in set(power["sample_size"])
    for name in ("power_curves", "r_distribution", "exaggeration"):
        assert (workdir / f"results/power/{name}.png").is_file()
    for rule in ("power_pilot_measurement", "power_pilot_monte_carlo"):
        assert (workdir / f"logs/{rule}.log").is_file()
        assert (workdir / f"benchmarks/{rule}.tsv").is_file()
    # the bottom line without a truth: what the data and the power model say, no grading
    conclusion = (workdir / "results/conclusion.md").read_text()
    assert conclusion.startswith("- Finding: ") and "as the configuration assumes" in conclusion
    assert "Graded" not in conclusion and "type S error" not in conclusion
    warnings = (workdir / "results/warnings.md").read_text().strip()
    assert result.stdout.rstrip().endswith(
        f"{conclusion.strip()}\n\nWarnings (results/warnings.md):\n\n{warnings}"
    )


def test_bids_dir_that_is_not_a_dataset_is_a_config_error(tmp_path: Path):
    from conftest import copy_workflow

    workdir = copy_workflow(tmp_path)
    result = run_snakemake(workdir, "-n", "--config", f"analysis={{'bids_dir': '{tmp_path}'}}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "'analysis.bids_dir'" in output and "not a BIDS dataset" in output
    assert "Traceback" not in output
