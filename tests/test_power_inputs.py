"""The power table's inputs, written beside it, recompute its rows exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.monte_carlo import summarise_correlations
from empathy_fmri.evaluation.power_inputs import PowerInputs, power_settings
from empathy_fmri.jobs.power import run_power


def _settings(config: dict, n_studies: int = 400, n_subjects: int = 12) -> dict:
    power = dict(config["power"], n_studies=n_studies, sample_sizes=[19, 60])
    return power_settings(
        config["seed"],
        config["signal"],
        list(config["analysis"]["rois"]),
        config["behaviour"],
        config["analysis"]["scores"],
        power,
        n_subjects,
    )


def _measurement(config: dict) -> MeasurementModel:
    rois = list(config["analysis"]["rois"])
    return MeasurementModel({r: 0.8 for r in rois}, {r: 0.3 for r in rois})


def test_settings_are_json_and_sizes_include_the_study(default_config):
    settings = _settings(default_config)
    assert json.loads(json.dumps(settings)) == settings
    inputs = PowerInputs.from_settings(settings, _measurement(default_config))
    assert inputs.sample_sizes == [12, 19, 60]
    assert list(inputs.population.signal.rois) == list(default_config["analysis"]["rois"])


def test_the_job_and_a_reader_of_its_folder_get_the_same_table(default_config, tmp_path: Path):
    """What a notebook computes from results/power equals what the rule wrote there."""
    settings = _settings(default_config)
    measurement = _measurement(default_config)
    power_dir = tmp_path / "power"
    power_dir.mkdir()
    measurement_table = pd.DataFrame(
        {
            "roi": list(measurement.gain),
            "gain": list(measurement.gain.values()),
            "error_sd_psc": list(measurement.error_sd_psc.values()),
        }
    )
    measurement_table.to_csv(power_dir / "measurement_model.tsv", sep="\t", index=False)
    run_power(
        settings,
        power_dir / "measurement_model.tsv",
        power_dir / "power.tsv",
        power_dir / "power_settings.json",
    )
    written = pd.read_csv(power_dir / "power.tsv", sep="\t")
    inputs = PowerInputs.read(power_dir)
    again = inputs.table([19])
    at_19 = written[written["sample_size"] == 19].reset_index(drop=True)
    # the TSV holds 6 significant digits
    for column in ("power", "power_holm", "r_median", "exaggeration_ratio_holm", "type_s_holm"):
        np.testing.assert_allclose(
            again[column], at_19[column], rtol=1e-5, equal_nan=True, err_msg=column
        )
    roi, score = "IFG_L", "D"
    k, j = inputs.pair_index(roi, score)
    studies = inputs.studies(19)
    row = at_19[(at_19["roi"] == roi) & (at_19["score"] == score)].iloc[0]
    r_population = np.zeros(studies.shape[1:])
    r_population[k, j] = row["r_population"]
    summary = summarise_correlations(studies, 19, r_population, inputs.power.alpha)
    assert summary["power"][k, j] == pytest.approx(row["power"], abs=1e-9)
    assert summary["power_holm"][k, j] == pytest.approx(row["power_holm"], abs=1e-9)


def test_reading_a_folder_without_settings_says_which_rule_makes_them(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="power_monte_carlo"):
        PowerInputs.read(tmp_path)
    with pytest.raises(KeyError, match="no pair"):
        PowerInputs.from_settings(
            power_settings(1, {"rois": {}}, ["IFG_L"], {}, ["D"], {}, 19),
            MeasurementModel.perfect(["IFG_L"]),
        ).pair_index("AI_L", "D")
