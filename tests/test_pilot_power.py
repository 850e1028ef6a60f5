"""Power from a pilot dataset: reliability without a truth, and the Monte Carlo at set true r.

Tolerances follow from Monte Carlo error: a share p estimated from M
simulated studies has binomial SE sqrt(p (1 - p) / M); a mean of M draws with
SD s has SE s / sqrt(M). Four SEs leave a chance below 1e-4 of a false
failure per comparison.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from empathy_fmri.config import BehaviourConfig, StudyConfig
from empathy_fmri.evaluation.inference import fisher_z_power, pearson_p_value
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.monte_carlo import PopulationModel, power_table
from empathy_fmri.evaluation.pilot_measurement import (
    brain_measurement,
    score_error_variance,
    score_measurement,
    split_variance,
)
from empathy_fmri.evaluation.pilot_power import (
    null_correlations,
    pilot_power_table,
    simulate_pilot_correlations,
)
from empathy_fmri.simulation.behaviour import latent_to_probability, simulate_responses
from empathy_fmri.task.process_dissociation import estimate_process_dissociation

SCORES = ["willingness_to_harm", "D", "U"]


def _exact_power(rho: float, n: int, alpha: float) -> float:
    """Exact power of the two-sided t test of r for n bivariate-normal pairs.

    Integrates the exact density of the sample r (Hotelling 1953, eq. 2.6 in
    its hypergeometric form) over |r| beyond the t test's critical r.
    """

    def density(r: float) -> float:
        log_c = (
            np.log(n - 2)
            + special.gammaln(n - 1)
            - 0.5 * np.log(2 * np.pi)
            - special.gammaln(n - 0.5)
        )
        log_f = (
            log_c
            + (n - 1) / 2 * np.log1p(-(rho**2))
            + (n - 4) / 2 * np.log1p(-(r**2))
            - (n - 1.5) * np.log1p(-rho * r)
        )
        return float(np.exp(log_f) * special.hyp2f1(0.5, 0.5, n - 0.5, (1 + rho * r) / 2))

    t = stats.t.isf(alpha / 2, n - 2)
    critical = t / np.sqrt(t**2 + n - 2)
    return integrate.quad(density, -1, -critical)[0] + integrate.quad(density, critical, 1)[0]


def _brain(true_sd: list[float], error_sd: list[float]) -> pd.DataFrame:
    """A made-up pilot_measurement table of ROIs with known SDs."""
    true_sd, error_sd = np.asarray(true_sd, float), np.asarray(error_sd, float)
    return pd.DataFrame(
        {
            "measure": [f"ROI{k}" for k in range(len(true_sd))],
            "true_sd": true_sd,
            "error_sd": error_sd,
            "reliability": true_sd**2 / (true_sd**2 + error_sd**2),
        }
    )


def test_exact_power_reference_integrates_to_one_and_knows_the_null():
    assert _exact_power(0.0, 19, 0.05) == pytest.approx(0.05, abs=1e-6)
    assert _exact_power(0.0, 50, 0.01) == pytest.approx(0.01, abs=1e-6)


# --- reliability without a truth ---------------------------------------------------------


def test_split_variance_is_observed_minus_error_variance():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # var (ddof 1) = 2.5
    split = split_variance(values, 0.5)
    assert split.observed_variance == pytest.approx(2.5)
    assert split.true_variance == pytest.approx(2.0)
    assert split.reliability == pytest.approx(0.8)
    assert not split.floored
    assert split.reliability_ci_low < 0.8 < split.reliability_ci_high
    # the interval is that of the observed variance (chi-square, 4 df), mapped
    low_total = 4 * 2.5 / stats.chi2.ppf(0.975, 4)
    assert split.reliability_ci_low == pytest.approx(max(0.0, 1 - 0.5 / low_total))


def test_split_variance_floors_at_zero_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        split = split_variance([0.0, 0.1, -0.1, 0.05], 1.0, name="ROI X")
    assert split.floored and split.true_variance == 0.0 and split.reliability == 0.0
    assert "ROI X" in caplog.text and "set to 0" in caplog.text


def test_brain_measurement_recovers_a_known_reliability():
    """y = t + e with sd(t) = 0.3 and error SD 0.25: reliability 0.09 / 0.1525 = 0.590.

    Tolerance: rel_hat = 1 - err / s^2 with s^2 of 4000 normal values, whose
    relative SD is sqrt(2 / 3999) = 0.022, so SD(rel_hat) = (1 - rel) 0.022 =
    0.009; 4 SE = 0.037. The truth must also lie in the 95% interval (it does
    with probability 0.95 for any seed; this seed is fixed).
    """
    rng = np.random.default_rng(7)
    n, true_sd, error_sd = 4000, 0.3, 0.25
    amplitude = true_sd * rng.standard_normal(n) + error_sd * rng.standard_normal(n)
    roi_table = pd.DataFrame(
        {
            "participant_id": [f"sub-{i:04d}" for i in range(n)],
            "roi": "AI_L",
            "selection": "independent",
            "needle_minus_swab": amplitude,
        }
    )
    other = roi_table.assign(selection="behaviour_peak", needle_minus_swab=10 * amplitude)
    calibration = pd.DataFrame(
        {"roi": ["AI_L"], "error_sd_psc": [error_sd], "correlation_factor": [1.8]}
    )
    table = brain_measurement(pd.concat([roi_table, other]), calibration)
    row = table.iloc[0]
    truth = true_sd**2 / (true_sd**2 + error_sd**2)
    se = (1 - truth) * np.sqrt(2 / (n - 1))
    assert row["reliability"] == pytest.approx(truth, abs=4 * se)
    assert row["reliability_ci_low"] < truth < row["reliability_ci_high"]
    assert row["true_sd"] == pytest.approx(true_sd, rel=0.05)
    assert row["error_sd"] == error_sd and row["kind"] == "roi"
    assert row["correlation_factor"] == 1.8  # the calibration's columns are kept


def _counts(rejected_c, accepted_c, rejected_i, accepted_i) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "congruent_harm_rejected": rejected_c,
            "congruent_harm_accepted": accepted_c,
            "incongruent_harm_rejected": rejected_i,
            "incongruent_harm_accepted": accepted_i,
        }
    )


def test_score_error_variance_of_a_proportion_is_unbiased():
    """Willingness to harm is 1 - x_i / n_i: the bootstrap variance is p_hat (1 - p_hat) / (n - 1).

    That is the unbiased estimate of p (1 - p) / n. 20,000 draws give the
    variance to sqrt(2 / 20000) = 1% relative SE; tolerance 5%.
    """
    phenotype = _counts([10, 9, 6, 0], [0, 1, 4, 10], [5, 1, 4, 10], [5, 9, 6, 0])
    variance = score_error_variance(
        phenotype, "willingness_to_harm", np.random.default_rng(1), n_draws=20_000
    )
    p = phenotype["incongruent_harm_rejected"].to_numpy() / 10
    np.testing.assert_allclose(variance, p * (1 - p) / 9, rtol=0.05)
    assert variance[3] == 0  # all rejected: no sampling variance under the plug-in


def test_score_error_variance_needs_the_counts():
    with pytest.raises(ValueError, match="power.pilot.score_reliability"):
        score_error_variance(pd.DataFrame({"D": [0.5]}), "D", np.random.default_rng(0))


def test_score_reliability_from_counts_matches_the_behaviour_model():
    """Drawn from the default behaviour model, the estimate matches corr(true, estimated)^2.

    (200 bootstrap draws per person: the mean error variance over 5,000
    people is then known to about sqrt(2 / 200) / sqrt(5000) = 0.14%.)

    5,000 people: the reliability's sampling SD is about (1 - rel) sqrt(2 /
    5000) = 0.012 and that of the squared correlation about as large, so 4 SE
    of their difference is about 0.07; tolerance 0.05 for willingness to harm
    and U (linear in the proportions, unbiased), 0.07 for D (a ratio: the
    bootstrap is first-order there).
    """
    behaviour = BehaviourConfig()
    rng = np.random.default_rng(3)
    n = 5000
    trait = rng.standard_normal(n)
    d = latent_to_probability(
        behaviour.D_mean,
        behaviour.D_sd_logit,
        behaviour.D_trait_coupling,
        trait,
        rng.standard_normal(n),
    )
    u = latent_to_probability(
        behaviour.U_mean,
        behaviour.U_sd_logit,
        behaviour.U_trait_coupling,
        trait,
        rng.standard_normal(n),
    )
    n_c, n_i = behaviour.n_congruent, behaviour.n_incongruent
    congruent, incongruent = simulate_responses(rng, d, u, n_c, n_i)
    scores = estimate_process_dissociation(congruent, incongruent, n_c, n_i)
    phenotype = _counts(congruent, n_c - congruent, incongruent, n_i - incongruent)
    for score in SCORES:
        phenotype[score] = scores[score].to_numpy()
    table = score_measurement(
        phenotype, SCORES, None, np.random.default_rng(4), n_draws=200
    ).set_index("measure")
    truth = {"willingness_to_harm": 1 - (1 - u) * d, "D": d, "U": u}
    for score, tolerance in (("willingness_to_harm", 0.05), ("U", 0.05), ("D", 0.07)):
        expected = np.corrcoef(truth[score], scores[score])[0, 1] ** 2
        assert table.loc[score, "reliability"] == pytest.approx(expected, abs=tolerance), score
        assert table.loc[score, "kind"] == "score"


def test_a_given_score_reliability_is_taken_as_it_is():
    phenotype = pd.DataFrame({s: [0.1, 0.5, 0.9, 0.4] for s in SCORES})
    table = score_measurement(phenotype, SCORES, 0.7)
    assert list(table["reliability"]) == [0.7] * 3
    assert table["true_variance"].to_numpy() == pytest.approx(
        0.7 * table["observed_variance"].to_numpy()
    )
    assert set(table["error_source"]) == {"config: power.pilot.score_reliability"}


# --- the Monte Carlo at set true r -------------------------------------------------------


@pytest.mark.parametrize(("true_r", "n"), [(0.3, 19), (0.5, 19), (0.3, 50), (0.1, 100)])
def test_power_at_reliability_one_is_the_exact_and_the_fisher_z_power(true_r, n):
    """Perfect measurement: the Monte Carlo power is that of the t test of r.

    Against the exact power (Hotelling's density) the only error is the Monte
    Carlo's: 4 binomial SEs, sqrt(p (1 - p) / 20000) <= 0.0035 each. Against
    the Fisher-z approximation its own error, |exact - Fisher| (0.024 at r =
    0.5, N = 19; under 0.01 elsewhere here), is added to the tolerance.
    """
    m = 20_000
    r = simulate_pilot_correlations(true_r, 0.4, 0.0, [1.0], n, m, np.random.default_rng(n))
    power = float(np.mean(pearson_p_value(r[:, 0], n) < 0.05))
    se = np.sqrt(power * (1 - power) / m)
    exact = _exact_power(true_r, n, 0.05)
    fisher = float(fisher_z_power(true_r, n, 0.05))
    assert power == pytest.approx(exact, abs=4 * se)
    assert power == pytest.approx(fisher, abs=4 * se + abs(exact - fisher))


def test_measurement_error_attenuates_r_by_the_root_of_the_reliabilities():
    """Mean r ~ true_r sqrt(rel_brain rel_score) (Spearman), for each score.

    rel_brain = 0.2^2 / (0.2^2 + 0.245^2) = 0.40; scores of reliability 1, 0.6
    and 0.3. Tolerance: SD of r at N = 200 is about (1 - rho^2) / sqrt(199)
    <= 0.071, so the SE of a mean over 20,000 studies is 0.0005; 4 SE plus
    the known bias of r, rho (1 - rho^2) / (2 N) <= 0.0006.
    """
    true_r, true_sd, error_sd, n, m = 0.5, 0.2, 0.245, 200, 20_000
    rel_brain = true_sd**2 / (true_sd**2 + error_sd**2)
    reliabilities = [1.0, 0.6, 0.3]
    r = simulate_pilot_correlations(
        true_r, true_sd, error_sd, reliabilities, n, m, np.random.default_rng(11)
    )
    for j, rel in enumerate(reliabilities):
        expected = true_r * np.sqrt(rel_brain * rel)
        assert r[:, j].mean() == pytest.approx(expected, abs=4 * 0.071 / np.sqrt(m) + 0.0006)


def test_null_correlations_have_the_null_distribution_of_r():
    """Uniform p values: each decile holds 10% of 200,000 draws (SE 0.00067)."""
    r = null_correlations(19, 20_000, 10, np.random.default_rng(2))
    p = pearson_p_value(r, 19).ravel()
    shares = np.histogram(p, bins=10, range=(0, 1))[0] / p.size
    assert np.max(np.abs(shares - 0.1)) < 4 * np.sqrt(0.09 / p.size)


def test_holm_power_lies_between_bonferroni_and_bonferroni_plus_the_nulls():
    """In a family of m tests whose other m - 1 are null, Holm rejects the pair
    at least when p < alpha / m, and otherwise only after a null was rejected at
    alpha / m first: P(p < alpha/m) <= power_holm <= P(p < alpha/m) + (m - 1) alpha / m.

    P(p < alpha / m) is the exact power at level alpha / m; 4 binomial SEs on
    either side.
    """
    brain = _brain([0.3, 0.3], [0.0, 0.0])  # reliability 1: the exact power applies
    m_studies = 20_000
    table = pilot_power_table(
        brain, {"D": 1.0, "U": 1.0}, [0.4], [60], m_studies, 0.05, seed=1, seed_offset=10
    )
    family = 4
    assert set(table["family_size"]) == {family}
    bonferroni = _exact_power(0.4, 60, 0.05 / family)
    for row in table.itertuples():
        se = np.sqrt(row.power_holm * (1 - row.power_holm) / m_studies)
        assert bonferroni - 4 * se <= row.power_holm
        assert row.power_holm <= bonferroni + (family - 1) * 0.05 / family + 4 * se
        assert row.power_holm < row.power


def test_pilot_power_table_columns_values_and_streams(default_config):
    """The simulated path's columns where meaningful; true r in every row; stable streams."""
    brain = _brain([0.3, 0.1, 0.0], [0.3, 0.3, 0.3])
    scores = {"willingness_to_harm": 1.0, "D": 1.0, "U": 0.5}
    args = (brain, scores, [0.0, 0.3], [19, 50], 2000, 0.05)
    table = pilot_power_table(*args, seed=5, seed_offset=1000)
    assert len(table) == 2 * 2 * 3 * 3
    study = PopulationModel.from_study(StudyConfig.from_dict(default_config))
    simulated = power_table(
        study, [19], 1000, MeasurementModel.perfect(list(study.signal.rois)), 0.05, n_draws=20_000
    )
    not_meaningful = {
        "n_null_pairs",
        "fwer_uncorrected",
        "fwer_uncorrected_mc_se",
        "fwer_holm",
        "fwer_holm_mc_se",
    }
    assert set(simulated.columns) - not_meaningful <= set(table.columns)
    assert set(table.columns) - set(simulated.columns) == {"true_r"}
    # the expected r is Spearman's attenuation, exactly
    rows = table.set_index(["sample_size", "true_r", "roi", "score"])
    row = rows.loc[(50, 0.3, "ROI0", "U")]
    assert row["r_expected"] == pytest.approx(0.3 * np.sqrt(0.5 * 0.5))
    assert rows.loc[(50, 0.3, "ROI2", "D"), "r_expected"] == 0.0  # no true variance
    # true r 0 is a null pair: the false-positive rate, no exaggeration or type S
    null = table[table["true_r"] == 0]
    assert null["null_pair"].all() and null["exaggeration_ratio"].isna().all()
    assert np.all(np.abs(null["power"] - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 2000))
    # scores of equal reliability share their draws and so their rows
    same = table[table["score"] == "willingness_to_harm"].reset_index(drop=True)
    other = table[table["score"] == "D"].reset_index(drop=True)
    pd.testing.assert_frame_equal(same.drop(columns="score"), other.drop(columns="score"))
    # reproducible, and a new sample size or true r leaves the others' draws alone
    pd.testing.assert_frame_equal(table, pilot_power_table(*args, seed=5, seed_offset=1000))
    wider = pilot_power_table(
        brain, scores, [0.0, 0.3, 0.5], [19, 30, 50], 2000, 0.05, seed=5, seed_offset=1000
    )
    kept = wider[wider["sample_size"].isin([19, 50]) & wider["true_r"].isin([0.0, 0.3])]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), table)


def test_pilot_figures_are_drawn(tmp_path):
    from empathy_fmri.jobs.figures import figure_power

    brain = _brain([0.3, 0.1], [0.3, 0.3])
    table = pilot_power_table(brain, {"D": 1.0, "U": 0.5}, [0.0, 0.3], [19, 50], 1000, 0.05, seed=5)
    table.to_csv(tmp_path / "power.tsv", sep="\t", index=False)
    paths = [tmp_path / f"{name}.png" for name in ("curves", "distribution", "exaggeration")]
    figure_power(tmp_path / "power.tsv", 19, [paths[0]], [paths[1]], [paths[2]])
    assert all(path.stat().st_size > 10_000 for path in paths)


# --- report captions ---------------------------------------------------------------------

REPORT = Path(__file__).resolve().parents[1] / "workflow" / "report"
#: Captions that change with analysis.bids_dir (simulated study or real pilot).
MODE_CAPTIONS = [
    "workflow.rst",
    "power_curves.rst",
    "power_r_distribution.rst",
    "power_exaggeration.rst",
]


def _render(name: str, config: dict) -> str:
    """Render a caption as Snakemake's report does (same jinja options), undefined = error."""
    from jinja2 import Environment, StrictUndefined

    snakemake = SimpleNamespace(
        config=config,
        params=SimpleNamespace(subject="sub-01", roi="IFG_L", study_n=19, n_subjects=19),
        wildcards=SimpleNamespace(score="D"),
        rule="power_figures",
    )
    env = Environment(trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    # workflow.rst also sees the report's files (it includes the bottom line from them)
    return env.from_string((REPORT / name).read_text()).render(snakemake=snakemake, files=[])


def _docutils_problems(text: str) -> str:
    from docutils.core import publish_parts

    stream = io.StringIO()
    publish_parts(
        text, writer="html", settings_overrides={"warning_stream": stream, "report_level": 2}
    )
    return stream.getvalue()


def _has_key(config: dict, dotted: str) -> bool:
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("real_data", [False, True], ids=["simulated", "real data"])
@pytest.mark.parametrize("name", MODE_CAPTIONS)
def test_captions_render_and_name_only_existing_keys(default_config, name, real_data):
    """Each mode's text renders without a docutils problem; every config key it names exists."""
    import copy

    config = copy.deepcopy(default_config)
    if real_data:
        config["analysis"]["bids_dir"] = "/data/pilot"
    text = _render(name, config)
    assert not _docutils_problems(text), _docutils_problems(text)
    assert "|r|" not in text  # an RST substitution reference
    for dotted in re.findall(r"\b[a-z_]+(?:\.[A-Za-z_]+)+\b", text):
        if dotted.split(".")[0] in config:
            assert _has_key(config, dotted), f"{name} names {dotted}, not a config key"
    pilot_words = "pilot" in text
    if name != "workflow.rst":
        assert pilot_words == real_data
    else:
        assert "graded" in text and "pilot" in text


def test_score_reliability_wording_follows_the_config(default_config):
    import copy

    config = copy.deepcopy(default_config)
    config["analysis"]["bids_dir"] = "/data/pilot"
    assert "as set in\npower.pilot.score_reliability" in _render("power_curves.rst", config)
    config["power"]["pilot"]["score_reliability"] = None
    assert "dilemma counts" in _render("power_curves.rst", config)


# --- the workflow on a real dataset ------------------------------------------------------


@pytest.mark.e2e
def test_real_data_dry_run_lists_the_pilot_power_rules(tmp_path, placeholder_dataset):
    """analysis.bids_dir set: the pilot's power rules (and power figures) are in the DAG.

    The dataset stands in for a real one: every file the simulator would
    write for the tiny study (from `snakemake --summary`), created with
    placeholder content, which a dry run does not read.
    """
    import yaml
    from conftest import TINY_CONFIG, copy_workflow, run_snakemake

    workdir = copy_workflow(tmp_path / "workflow")
    dataset, subjects = placeholder_dataset
    overrides = yaml.safe_load(TINY_CONFIG.read_text())
    overrides["analysis"]["bids_dir"] = str(dataset)
    (workdir / "pilot.yaml").write_text(yaml.safe_dump(overrides))
    result = run_snakemake(workdir, "-n", "--configfile", "pilot.yaml", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    for rule in (
        "power_pilot_measurement",
        "power_pilot_monte_carlo",
        "power_figures",
        # the split-half reliability needs no truth
        "reliability",
        "figure_reliability",
    ):
        assert counts.get(rule) == 1, (rule, counts)
    for rule in (
        "power_measurement",
        "power_monte_carlo",
        "simulate_subject",
        "validate_correlations",
        "validate_reliability",
    ):
        assert rule not in counts, rule
    assert counts["first_level"] == len(subjects)
