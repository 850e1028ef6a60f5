"""Scores from raw dilemma responses (``analysis.dilemmas``; issue 12).

The raw path is checked on the simulator's own phenotype file: its counts,
scored by :func:`empathy_fmri.io.phenotype.read_phenotype`, must give the
scores the simulator wrote beside them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from empathy_fmri.config import BehaviourConfig, ConfigError, DilemmasConfig, validate_config
from empathy_fmri.config.loading import load_config
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.io.phenotype import DILEMMA_SCORES, read_phenotype
from empathy_fmri.jobs.first_level import write_participants_table
from empathy_fmri.jobs.simulate import write_phenotype
from empathy_fmri.simulation.population import draw_participant, subject_behaviour

REPO = Path(__file__).resolve().parents[1]
SCORES = ["willingness_to_harm", "D", "U"]
#: The simulator's count columns, as analysis.dilemmas names them.
SIMULATED = DilemmasConfig(
    congruent_rejected="congruent_harm_rejected",
    incongruent_rejected="incongruent_harm_rejected",
    n_congruent=10,
    n_incongruent=10,
)


def _simulated(tmp_path: Path, behaviour: BehaviourConfig, n: int) -> tuple[Path, Path, int]:
    """The simulator's phenotype file, and a copy with only its raw counts."""
    seed = int(load_config(REPO / "config.yaml")["seed"])
    write_phenotype(seed, behaviour, n, tmp_path / "bids")
    scored = tmp_path / "bids" / "phenotype" / "moral_dilemmas.tsv"
    raw = tmp_path / "raw.tsv"
    pd.read_csv(scored, sep="\t").drop(columns=list(DILEMMA_SCORES)).to_csv(
        raw, sep="\t", index=False
    )
    return scored, raw, seed


@pytest.mark.parametrize(
    "behaviour",
    [
        BehaviourConfig(),  # the default task: no participant at U = 1 among 80
        BehaviourConfig(U_mean=0.9),  # about a third of the participants at U = 1
    ],
    ids=["default", "many_edge_cases"],
)
def test_raw_counts_give_the_simulated_scores(tmp_path, behaviour, caplog):
    n = 80
    scored, raw, seed = _simulated(tmp_path, behaviour, n)
    with caplog.at_level(logging.INFO, logger="empathy_fmri.io.phenotype"):
        computed = read_phenotype(raw, SCORES, SIMULATED)
    written = pd.read_csv(scored, sep="\t").set_index("participant_id")
    # the simulator's own values (before writing) are matched exactly, to the 12 decimals
    # read_phenotype keeps: one model, one function
    truth = pd.DataFrame(
        [
            subject_behaviour(seed, behaviour, i, draw_participant(seed, behaviour, i, n))
            for i in range(n)
        ],
        index=written.index,
    )
    for score in SCORES:
        assert computed[score].tolist() == np.round(truth[score], 12).tolist(), score
        # equal scores tie exactly and distinct ones stay apart (exact fractions), so ranks
        # (Spearman's rho) are those of the exact scores
        exact = _exact_scores(written, behaviour)[score]
        same = exact[:, None] == exact[None, :]
        values = computed[score].to_numpy()
        assert ((values[:, None] == values[None, :]) == same).all(), score
        assert same.sum() > n  # ties exist among 80 scores of 10 dilemmas each
        # the file holds them to write_tsv's %.6g: half a unit of the 6th significant
        # digit is a relative error of at most 5e-6
        np.testing.assert_allclose(computed[score], written[score], rtol=5e-6, atol=0)
    assert computed["pd_edge_case"].tolist() == written["pd_edge_case"].tolist()
    edge = list(written.index[written["pd_edge_case"] == "yes"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if behaviour.U_mean == 0.9:
        assert len(edge) >= 10  # P(U = 1) = 0.33 here: 80 draws give 10 or more but 1e-4 times
        assert len(warnings) == 1 and all(s in warnings[0] for s in edge)
        assert f"{len(edge)} participant(s)" in warnings[0]
    else:
        assert edge == [] and warnings == []


def _exact_scores(table: pd.DataFrame, behaviour: BehaviourConfig) -> dict[str, np.ndarray]:
    """U, D and willingness to harm as exact fractions (the U = 1 correction included)."""
    from fractions import Fraction

    out = {score: [] for score in SCORES}
    n_c, n_i = behaviour.n_congruent, behaviour.n_incongruent
    for c, i in zip(
        table["congruent_harm_rejected"], table["incongruent_harm_rejected"], strict=True
    ):
        p_c, p_i = Fraction(int(c), n_c), Fraction(int(i), n_i)
        out["willingness_to_harm"].append(1 - p_i)
        if p_c - p_i == 1:
            p_c, p_i = 1 - Fraction(1, 2 * n_c), Fraction(1, 2 * n_i)
        out["U"].append(p_c - p_i)
        out["D"].append(p_i / (1 - (p_c - p_i)))
    return {score: np.array(values, dtype=object) for score, values in out.items()}


def test_participants_table_records_the_computed_scores_and_edge_cases(tmp_path):
    _, raw, _ = _simulated(tmp_path, BehaviourConfig(U_mean=0.9), 30)
    computed = read_phenotype(raw, SCORES, SIMULATED)
    listed = [*computed.index, "sub-99"]  # one participant of the dataset has no row
    table = write_participants_table(
        listed, {}, [], tmp_path / "participants.tsv", phenotype_path=raw, dilemmas=SIMULATED
    )
    back = pd.read_csv(tmp_path / "participants.tsv", sep="\t", keep_default_na=False)
    assert back["pd_edge_case"].tolist() == [*computed["pd_edge_case"], "n/a"]
    assert "yes" in set(back["pd_edge_case"])
    np.testing.assert_array_equal(table["D"].to_numpy()[:-1], computed["D"].to_numpy())


def _raw_table(path: Path, changes: dict | None = None) -> Path:
    """Four participants' counts (of 10 each), with some cells changed."""
    table = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03", "sub-04"],
            "cong": ["7", "9", "4", "10"],
            "incong": ["3", "1", "4", "0"],
            "n_c": ["10", "10", "10", "10"],
        }
    )
    for (column, row), value in (changes or {}).items():
        table.loc[row, column] = value
    table.to_csv(path, sep="\t", index=False)
    return path


NAMED = DilemmasConfig("cong", "incong", 10, 10)
PER_ROW = DilemmasConfig("cong", "incong", "n_c", 10)


@pytest.mark.parametrize(
    ("changes", "dilemmas", "expected"),
    [
        ({("cong", 2): "4.5"}, NAMED, ["'cong'", "sub-03 has 4.5", "whole number"]),
        ({("incong", 1): "-1"}, NAMED, ["'incong'", "sub-02 has -1", "between 0"]),
        (
            {("cong", 0): "11"},
            NAMED,
            ["'cong'", "sub-01 has 11 (of 10)", "'analysis.dilemmas.n_congruent' = 10"],
        ),
        ({("incong", 3): "n/a"}, NAMED, ["'incong'", "sub-04 has n/a", "remove the row"]),
        ({("cong", 1): "nine"}, NAMED, ["'cong'", "sub-02 has 'nine'"]),
        (
            {("cong", 1): "9", ("n_c", 1): "8"},
            PER_ROW,
            ["'cong'", "sub-02 has 9 (of 8)", "the participant's 'n_c'"],
        ),
        ({("n_c", 2): "0"}, PER_ROW, ["'n_c'", "sub-03 has 0", "at least 1"]),
        ({("n_c", 0): "n/a"}, PER_ROW, ["'n_c'", "sub-01 has n/a"]),
    ],
    ids=["non_integer", "negative", "above_n", "na", "text", "above_own_n", "n_zero", "n_na"],
)
def test_bad_counts_are_refused_naming_column_and_participant(
    tmp_path, changes, dilemmas, expected
):
    path = _raw_table(tmp_path / "phenotype.tsv", changes)
    with pytest.raises(InputFileError) as caught:
        read_phenotype(path, SCORES, dilemmas)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    key = (
        "n_congruent"
        if "'n_c'" in expected[0]
        else ("congruent_rejected" if expected[0] == "'cong'" else "incongruent_rejected")
    )
    assert f"'analysis.dilemmas.{key}'" in message
    for part in expected:
        assert part in message, (part, message)


def test_a_missing_count_column_is_named(tmp_path):
    path = _raw_table(tmp_path / "phenotype.tsv")
    with pytest.raises(
        InputFileError,
        match=r"lacks the column\(s\) \['incongruent'\].*"
        r"incongruent_rejected: incongruent",
    ):
        read_phenotype(path, SCORES, DilemmasConfig("cong", "incongruent", 10, 10))


def test_scores_already_in_the_file_are_refused_by_name(tmp_path):
    path = _raw_table(tmp_path / "phenotype.tsv")
    table = pd.read_csv(path, sep="\t")
    table["D"] = 0.5
    table["willingness_to_harm"] = 0.5
    table.to_csv(path, sep="\t", index=False)
    with pytest.raises(
        InputFileError,
        match=r"already has the column\(s\) \['D', "
        r"'willingness_to_harm'\].*'analysis.dilemmas' to null",
    ):
        read_phenotype(path, SCORES, NAMED)
    # without analysis.dilemmas the same file is read as it is
    assert read_phenotype(path, ["D"])["D"].tolist() == [0.5] * 4


def test_good_counts_are_scored_per_participant_n(tmp_path):
    path = _raw_table(tmp_path / "phenotype.tsv", {("n_c", 1): "12", ("cong", 1): "12"})
    table = read_phenotype(path, SCORES, PER_ROW)
    # sub-02: 12 of 12 congruent and 1 of 10 incongruent rejected
    assert table.loc["sub-02", "U"] == pytest.approx(1.0 - 0.1)
    assert table.loc["sub-02", "willingness_to_harm"] == pytest.approx(0.9)
    # sub-04: 10 of 10 and 0 of 10, U = 1: the corrected proportions 1 - 1/20 and 1/20
    assert table.loc["sub-04", "pd_edge_case"] == "yes"
    assert table.loc["sub-04", "U"] == pytest.approx(0.95 - 0.05)
    assert table.loc["sub-04", "D"] == pytest.approx(0.05 / (1 - 0.9))


def test_the_simulated_study_refuses_analysis_dilemmas():
    config = load_config(REPO / "config.yaml")
    config["analysis"]["dilemmas"] = SIMULATED.to_dict()
    with pytest.raises(ConfigError, match="'analysis.dilemmas' is set.*'analysis.bids_dir'"):
        validate_config(config)


def test_the_pilot_bootstrap_redraws_the_named_counts(tmp_path):
    """The counts analysis.dilemmas names give the bootstrap of the simulator's count columns."""
    from empathy_fmri.evaluation.pilot_measurement import score_error_variance
    from empathy_fmri.io.phenotype import dilemma_counts

    scored, raw, _ = _simulated(tmp_path, BehaviourConfig(), 40)
    simulated = read_phenotype(scored, SCORES)
    computed = read_phenotype(raw, SCORES, SIMULATED)
    counts = dilemma_counts(raw, computed, SIMULATED)
    for score in SCORES:
        # the same draws from the same counts: identical variances, not merely close
        expected = score_error_variance(simulated, score, np.random.default_rng(5), 200)
        got = score_error_variance(computed, score, np.random.default_rng(5), 200, counts)
        np.testing.assert_array_equal(got, expected)
        # finite for everyone (0 where a participant's counts are all or none)
        assert np.isfinite(expected).all() and expected.mean() > 0


@pytest.mark.e2e
def test_a_dry_run_with_raw_dilemma_counts_resolves(tmp_path, placeholder_dataset):
    """analysis.bids_dir with analysis.dilemmas: every job that reads the scores is planned.

    The dataset is the tiny study's file list with placeholder content (a
    dry run reads no data file); the phenotype file, raw counts only, is
    given by its absolute path.
    """
    import yaml
    from conftest import TINY_CONFIG, copy_workflow, job_counts, run_snakemake

    workdir = copy_workflow(tmp_path / "workflow")
    dataset, subjects = placeholder_dataset
    phenotype = tmp_path / "dilemmas.tsv"
    pd.DataFrame({"participant_id": subjects, "cong_rejected": 7, "incong_rejected": 3}).to_csv(
        phenotype, sep="\t", index=False
    )
    overrides = yaml.safe_load(TINY_CONFIG.read_text())
    overrides["analysis"].update(
        bids_dir=str(dataset),
        phenotype=str(phenotype),
        dilemmas={
            "congruent_rejected": "cong_rejected",
            "incongruent_rejected": "incong_rejected",
            "n_congruent": 10,
            "n_incongruent": 10,
        },
        scores=["willingness_to_harm", "U"],
    )
    (workdir / "lab.yaml").write_text(yaml.safe_dump(overrides))
    result = run_snakemake(workdir, "-n", "--configfile", "lab.yaml", timeout=300)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    assert "Traceback" not in text
    counts = job_counts(result.stdout)
    # roi_coverage: the ROIs are measured on the dataset's own grid before they are placed
    for rule in (
        "participants_table",
        "roi_definitions",
        "brain_behaviour",
        "power_pilot_measurement",
        "roi_coverage",
    ):
        assert counts.get(rule) == 1, (rule, counts)
    # one whole-brain map and one scatter figure per score, named by analysis.scores
    assert counts["behaviour_map"] == 2 and counts["figure_brain_behaviour"] == 2
    assert counts["first_level"] == len(subjects)


def test_the_readme_example_of_analysis_dilemmas_is_a_valid_config():
    import re
    import textwrap

    import yaml

    text = (REPO / "README.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "dilemmas:" in b]
    assert len(blocks) == 1
    example = yaml.safe_load(textwrap.dedent(blocks[0]))["analysis"]
    config = load_config(REPO / "config.yaml")
    config["analysis"].update(example, bids_dir="/data/lab")
    checked = validate_config(config)["analysis"]
    from empathy_fmri.config import AnalysisConfig

    dilemmas = AnalysisConfig.from_dict(checked).dilemmas
    assert dilemmas == DilemmasConfig(
        "congruent_harm_rejected", "incongruent_harm_rejected", 10, "n_incongruent_answered"
    )
