"""Grading a study against its truth: metrics on synthetic data with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import simulation_sections

from empathy_fmri.evaluation.map_accuracy import map_accuracy
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.recovery import amplitude_recovery, correlation_recovery
from empathy_fmri.evaluation.summary import summary_markdown
from empathy_fmri.evaluation.wording import percent


def _estimates(true: np.ndarray, estimate: np.ndarray, roi: str = "IFG_L") -> tuple:
    ids = [f"sub-{i + 1:02d}" for i in range(len(true))]
    estimates = pd.DataFrame(
        {
            "participant_id": ids,
            "roi": roi,
            "selection": "independent",
            "needle_minus_swab": estimate,
            "n_voxels": 10,
        }
    )
    truth = pd.DataFrame({"participant_id": ids, f"true_{roi}": true})
    return estimates, truth


def test_amplitude_recovery_known_answer():
    true = np.array([0.1, 0.4, 0.5, 0.9, 1.1])
    estimates, truth = _estimates(true, 0.8 * true - 0.05)
    model = MeasurementModel({"IFG_L": 0.8}, {"IFG_L": 0.1})
    row = amplitude_recovery(estimates, truth, model).iloc[0]
    assert row["n"] == 5
    assert row["r"] == pytest.approx(1.0)
    assert row["slope"] == pytest.approx(0.8)
    assert row["intercept"] == pytest.approx(-0.05)
    assert row["residual_sd"] == pytest.approx(0.0, abs=1e-12)
    error = -0.2 * true - 0.05
    assert row["bias"] == pytest.approx(error.mean())
    assert row["rmse"] == pytest.approx(np.sqrt(np.mean(error**2)))
    assert row["true_sd"] == pytest.approx(true.std(ddof=1))
    assert row["gain_model"] == 0.8 and row["error_sd_model"] == 0.1


def test_amplitude_recovery_needs_the_truth_column():
    estimates, truth = _estimates(np.arange(4.0), np.arange(4.0))
    with pytest.raises(ValueError, match="true_IFG_L"):
        amplitude_recovery(estimates, truth.rename(columns={"true_IFG_L": "x"}))


def test_map_accuracy_known_answer():
    shape = (20, 20, 20)
    brain = np.zeros(shape, bool)
    brain[1:19, 1:19, 1:19] = True
    true = np.zeros(shape, bool)
    true[4:8, 4:8, 4:8] = True  # 64 voxels
    significant = np.zeros(shape, bool)
    significant[4:8, 4:8, 4:6] = True  # half of the true region: 32 voxels
    significant[9, 5, 5] = True  # near: 2 voxels (4 mm at 2 mm voxels) from the region
    significant[15, 15, 15:18] = True  # distant cluster of 3
    significant[2, 16, 16] = True  # distant single voxel
    significant[0, 0, 0] = True  # outside the brain: ignored
    table = map_accuracy(significant, {"roi": true}, brain, 2.0, 6.0)
    table = table.set_index("region")
    assert table.loc["roi", "n_voxels"] == 64
    assert table.loc["roi", "n_detected"] == 32
    assert table.loc["roi", "share_detected"] == pytest.approx(0.5)
    assert table.loc["all_true", "n_detected"] == 32
    assert table.loc["outside", "n_detected"] == 5
    assert table.loc["outside", "n_clusters"] == 3
    assert table.loc["outside", "largest_cluster_voxels"] == 3
    assert table.loc["outside", "detected_mm3"] == 5 * 8
    assert table.loc["distant", "n_detected"] == 4
    assert table.loc["distant", "n_clusters"] == 2
    assert table.loc["outside", "measure"] == "false_positive"


def test_map_accuracy_without_true_regions_counts_everything_as_false():
    brain = np.ones((6, 6, 6), bool)
    significant = np.zeros_like(brain)
    significant[2, 2, 2] = True
    table = map_accuracy(significant, {}, brain, 3.0, 6.0).set_index("region")
    assert table.loc["outside", "n_detected"] == 1
    assert table.loc["distant", "n_detected"] == 1
    assert np.isnan(table.loc["all_true", "share_detected"])


def _correlation_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    stats = pd.DataFrame(
        {
            "roi": ["IFG_L", "IFG_L", "IFG_L"],
            "selection": ["independent", "independent", "group_peak"],
            "score": ["willingness_to_harm", "U", "willingness_to_harm"],
            "n": 19,
            "r": [-0.52, 0.30, -0.61],
            "ci_low": [-0.79, 0.05, -0.83],
            "ci_high": [-0.09, 0.62, -0.22],
            "p": [0.022, 0.04, 0.005],
            "p_corrected": [0.3, 1.0, 0.07],
        }
    )
    population = pd.DataFrame(
        {
            "roi": ["IFG_L", "IFG_L"],
            "score": ["willingness_to_harm", "U"],
            "r": [-0.30, 0.0],
            "r_measured_score": [-0.21, 0.0],
        }
    )
    power = pd.DataFrame(
        {
            "roi": ["IFG_L", "IFG_L"],
            "score": ["willingness_to_harm", "U"],
            "reliability_brain": [0.64, 0.64],
            "reliability_behaviour": [0.5, 0.4],
            "r_expected": [-0.17, 0.0],
            "power": [0.24, 0.05],
        }
    )
    return stats, population, power


def test_correlation_recovery_attenuation_and_coverage():
    table = correlation_recovery(*_correlation_inputs(), alpha=0.05)
    harm = table.iloc[0]
    # Spearman: -0.30 * sqrt(0.64 * 0.5) = -0.1697
    assert harm["r_attenuated"] == pytest.approx(-0.30 * np.sqrt(0.32))
    assert harm["error_vs_population"] == pytest.approx(-0.22)
    assert harm["ci_covers_population"] and harm["ci_covers_attenuated"]
    assert harm["significant"] and not harm["significant_corrected"]
    null = table.iloc[1]
    assert null["r_attenuated"] == 0.0
    assert not null["ci_covers_population"] and null["significant"]  # a false positive
    assert table.iloc[2]["power"] == pytest.approx(0.24)  # group_peak rows share the pair's truth


def _summary_inputs():
    """Correlation and amplitude tables of a small made-up study."""
    stats, population, power = _correlation_inputs()
    correlations = correlation_recovery(stats, population, power, alpha=0.05)
    estimates, truth = _estimates(np.array([0.1, 0.4, 0.5, 0.9]), np.array([0.2, 0.3, 0.6, 0.7]))
    amplitudes = amplitude_recovery(
        estimates, truth, MeasurementModel({"IFG_L": 0.8}, {"IFG_L": 0.1})
    )
    return correlations, amplitudes


def test_summary_reads_like_the_issue():
    correlations, amplitudes = _summary_inputs()
    brain = np.ones((6, 6, 6), bool)
    true = np.zeros_like(brain)
    true[1:3, 1:3, 1:3] = True
    maps = map_accuracy(true, {"IFG_L": true}, brain, 3.0, 6.0)
    maps.insert(0, "threshold", "fwe")
    text = summary_markdown(
        amplitudes, maps, correlations, 19, 0.05, 6.0, bottom_line="- Finding: made up.\n"
    )
    # one significance standard, the analysis's Holm p: p = 0.022 alone is not significant
    assert (
        "The IFG_L\u2013willingness to harm correlation was estimated at "
        "r = \u22120.52 [\u22120.79, \u22120.09] (p(Holm) = 0.300, not significant after "
        "Holm's correction; uncorrected p = 0.022)"
    ) in text
    assert "the population value was \u22120.30" in text
    assert "detects it 24% of the time (uncorrected p < 0.05)" in text
    assert "1 ROI\u2013score pairs have no correlation" in text
    assert (
        "0 of them were significant after Holm's correction (false positives); 1 had an "
        "uncorrected p below 0.05"
    ) in text
    assert "| p(Holm) | p uncorrected |" in text
    assert "FWE at 0.05: 100% of the 8 truly active voxels were detected; 0 voxels" in text
    # the bottom line comes first, verbatim
    assert text.index("## Bottom line\n\n- Finding: made up.") < text.index("## Brain-behaviour")


def test_summary_names_wrong_sign_and_inflated_significant_results():
    correlations, amplitudes = _summary_inputs()
    maps = map_accuracy(np.zeros((4, 4, 4), bool), {}, np.ones((4, 4, 4), bool), 3.0, 6.0)
    maps.insert(0, "threshold", "fwe")
    harm = correlations.index[
        (correlations["selection"] == "independent")
        & (correlations["score"] == "willingness_to_harm")
    ]
    correlations.loc[harm, ["r", "p_corrected", "power_holm"]] = [0.52, 0.01, 0.007]
    text = summary_markdown(amplitudes, maps, correlations, 19, 0.05, 6.0)
    assert "significant after Holm's correction) \u2014 the wrong sign (type S error)" in text
    assert "detects it 0.7% of the time after Holm's correction (24% uncorrected)" in text
    correlations.loc[harm, "r"] = -0.52
    text = summary_markdown(amplitudes, maps, correlations, 19, 0.05, 6.0)
    assert "\u2014 inflated (type M error: 1.7 times the population value)" in text


@pytest.mark.e2e
def test_default_run_writes_validation_and_power(tiny_run: Path, tiny_config):
    """The default target grades the tiny study and estimates power, with figures."""
    results = tiny_run / "results"
    expected = {
        "validation/amplitude_recovery.tsv": {"roi", "selection", "r", "bias", "rmse", "slope"},
        "validation/map_accuracy.tsv": {
            "threshold",
            "region",
            "n_detected",
            "share_detected",
            "n_clusters",
            "largest_cluster_voxels",
        },
        "validation/correlation_recovery.tsv": {
            "roi",
            "selection",
            "score",
            "r",
            "r_population",
            "r_attenuated",
            "inflation",
            "power",
        },
        "power/power.tsv": {
            "sample_size",
            "roi",
            "score",
            "power",
            "r_median",
            "r_q025",
            "r_q975",
            "exaggeration_ratio",
            "type_s",
            "power_fisher_z",
        },
        "power/measurement_model.tsv": {
            "roi",
            "gain",
            "error_sd_psc",
            "correlation_factor",
            "reliability_brain",
        },
    }
    for name, columns in expected.items():
        table = pd.read_csv(results / name, sep="\t")
        assert columns <= set(table.columns), name
        assert len(table) > 0, name
    for name in (
        "validation/amplitude_recovery.png",
        "validation/map_accuracy.png",
        "validation/correlation_recovery.png",
        "power/power_curves.png",
        "power/r_distribution.png",
        "power/exaggeration.png",
    ):
        assert (results / name).stat().st_size > 10_000, name
    summary = (results / "validation/summary.md").read_text()
    assert "was estimated at r =" in summary and "of the time" in summary
    for selection in ("independent", "group_peak", "behaviour_peak", "cross_validated"):
        assert f"- {selection} ROIs (" in summary, selection
    recovery = pd.read_csv(results / "validation/correlation_recovery.tsv", sep="\t")
    assert len(recovery) == 4 * len(tiny_config["analysis"]["rois"]) * 3
    assert recovery["inflation"].to_numpy() == pytest.approx(
        (recovery["r"].abs() - recovery["r_attenuated"].abs()).to_numpy(),
        abs=1e-5,  # TSV
    )
    assert recovery["error_vs_attenuated"].to_numpy() == pytest.approx(
        (recovery["r"] - recovery["r_attenuated"]).to_numpy(), abs=1e-5
    )
    power = pd.read_csv(results / "power/power.tsv", sep="\t")
    sizes = set(power["sample_size"])
    assert tiny_config["n_subjects"] in sizes
    assert set(tiny_config["power"]["sample_sizes"]) <= sizes
    maps = pd.read_csv(results / "validation/map_accuracy.tsv", sep="\t")
    assert set(maps["threshold"]) == {"fdr", "fwe"}


def test_noise_validation_accounts_for_every_component(tmp_path, tiny_config):
    from empathy_fmri.jobs.validate import run_noise_validation

    simulation = simulation_sections(tiny_config)
    table_path, figure_path = tmp_path / "noise.tsv", tmp_path / "noise.png"
    run_noise_validation(
        simulation,
        tiny_config["analysis"],
        tiny_config["n_subjects"],
        table_path,
        figure_path,
        max_subjects=1,
    )
    table = pd.read_csv(table_path, sep="\t")
    summary = table[table["participant_id"] == "all"].set_index("component")
    # motion is at its largest at the brain's edge, where the image changes fastest
    motion = summary.loc["head motion"]
    assert motion["spurious_effect_edge_psc"] > motion["spurious_effect_interior_psc"] > 0
    assert set(summary.index) == {
        "thermal",
        "system",
        "cardiac + respiratory",
        "breathing depth + heart rate",
        "drift",
        "head motion",
        "all noise",
    }
    # the model removes most of the drift (it is mostly below the high-pass)
    # and nearly all of the motion, but not all of either
    assert 0 < summary.loc["drift", "share_remaining"] < 0.9
    assert 0 < summary.loc["head motion", "share_remaining"] < 0.2
    # the components are independent draws, so what is left of their sum is
    # the sum of what is left of each, up to cross terms of a few percent
    parts = summary.drop(index="all noise")["share_of_remaining_noise"].sum()
    assert parts == pytest.approx(1.0, abs=0.1)
    assert figure_path.stat().st_size > 10_000
    # and the plain-language summary says what was left
    correlations, amplitudes = _summary_inputs()
    brain = np.ones((6, 6, 6), bool)
    maps = map_accuracy(brain & False, {"IFG_L": brain & False}, brain, 3.0, 6.0)
    maps.insert(0, "threshold", "fwe")
    text = summary_markdown(amplitudes, maps, correlations, 19, 0.05, 6.0, noise=table)
    share = summary.loc["head motion", "share_remaining"]
    assert f"Head motion: {percent(share)} of its variance survived" in text
    assert "## Noise the analysis had to live with" in text
