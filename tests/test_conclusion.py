"""The bottom line: generated from made-up result tables, one case per kind of outcome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from empathy_fmri.evaluation.conclusion import bottom_line, bottom_line_text

ROIS = ["IFG_L", "IFG_R"]
SCORES = ["willingness_to_harm", "D", "U"]
#: Population correlations of the made-up study: U is a null score.
TRUTH = {
    ("IFG_L", "willingness_to_harm"): -0.24,
    ("IFG_L", "D"): 0.30,
    ("IFG_L", "U"): 0.0,
    ("IFG_R", "willingness_to_harm"): -0.20,
    ("IFG_R", "D"): 0.25,
    ("IFG_R", "U"): 0.0,
}


def _stats(results: dict | None = None, n: int = 19, selections=("independent",)) -> pd.DataFrame:
    """Six a-priori correlations, all r = 0.1 and nothing significant, except ``results``.

    ``results`` maps (roi, score) to (r, p, p_corrected).
    """
    results = results or {}
    rows = []
    for selection in selections:
        for roi in ROIS:
            for score in SCORES:
                r, p, p_holm = (
                    results.get((roi, score), (0.1, 0.6, 1.0))
                    if selection == "independent"
                    else (0.1, 0.6, 1.0)
                )
                rows.append(
                    {
                        "roi": roi,
                        "selection": selection,
                        "score": score,
                        "n": n,
                        "r": r,
                        "ci_low": r - 0.4,
                        "ci_high": r + 0.4,
                        "p": p,
                        "p_corrected": p_holm,
                    }
                )
    return pd.DataFrame(rows)


def _power(holm_at_19: float = 0.007, sizes=(19, 100, 400), holm_growth: float = 3.0):
    """Power rows: IFG_L-D is the best-placed pair; Holm power grows with N."""
    rows = []
    for n in sizes:
        for (roi, score), r_pop in TRUTH.items():
            best = (roi, score) == ("IFG_L", "D")
            holm = min(1.0, holm_at_19 * holm_growth ** np.log(n / 19)) if best else 0.003
            rows.append(
                {
                    "sample_size": n,
                    "roi": roi,
                    "score": score,
                    "null_pair": r_pop == 0,
                    "r_population": r_pop,
                    "r_expected": r_pop * 0.4,
                    "power": min(1.0, holm * 8 + 0.05),
                    "power_holm": holm,
                    "exaggeration_ratio_holm": 2.5 if best else np.nan,
                    "type_s_holm": 0.1 if best else np.nan,
                    "fwer_holm": 0.015,
                    "fwer_uncorrected": 0.22,
                    "n_null_pairs": 2,
                }
            )
    return pd.DataFrame(rows)


def _population() -> pd.DataFrame:
    return pd.DataFrame(
        [{"roi": roi, "score": score, "r_population": r} for (roi, score), r in TRUTH.items()]
    )


def _text(*args, **kwargs) -> str:
    return "\n".join(bottom_line(*args, **kwargs))


def test_nothing_significant_says_so_and_counts_the_misses():
    paragraphs = bottom_line(_stats(), _power(), 0.05, _population())
    finding, graded, power, claim = paragraphs
    assert finding.startswith("Finding: none of the 6 brain-behaviour correlations")
    assert "after Holm's correction across the 6 ROI x score tests" in finding
    assert "uncorrected p below" not in finding  # every p is 0.6
    stats = _stats({("IFG_L", "D"): (0.50, 0.02, 0.12)})
    strongest = bottom_line(stats, _power(), 0.05, _population())[0]
    assert (
        "The strongest was IFG_L\u2013deontological inclination D, r = 0.50 [0.10, 0.90], "
        "p(Holm) = 0.120 "
        "(uncorrected p = 0.020). 1 had an uncorrected p below 0.05; by this standard it "
        "is not significant."
    ) in strongest
    assert "missed all 4 correlations that exist in the simulated population" in graded
    assert "type S error)" not in graded and "inflated (type M" not in graded
    # r = 0.1 everywhere: the two negative population values are estimated with the wrong sign
    assert (
        "Of the 4 estimates of correlations that exist in the population, 2 had the wrong sign"
        in graded
    )
    assert "IFG_L\u2013deontological inclination D" in power
    assert "0.7% of the time after Holm's correction" in power
    assert claim.startswith("What a study of this design can honestly claim: little")


def test_only_the_holm_p_makes_a_result_significant():
    stats = _stats(
        {("IFG_L", "willingness_to_harm"): (0.50, 0.002, 0.03), ("IFG_R", "D"): (0.47, 0.04, 0.2)}
    )
    finding = bottom_line(stats, _power(), 0.05, _population())[0]
    assert finding.startswith("Finding: 1 of the 6 brain-behaviour correlations")
    assert "IFG_L\u2013willingness to harm, r = 0.50 [0.10, 0.90], p(Holm) = 0.030" in finding
    assert "IFG_R\u2013deontological inclination D" not in finding.split(".")[0]
    assert (
        "1 more had an uncorrected p below 0.05; by this standard it is not significant" in finding
    )


def test_wrong_sign_results_are_named_type_s():
    stats = _stats(
        {
            ("IFG_L", "willingness_to_harm"): (0.50, 0.002, 0.03),
            ("IFG_L", "D"): (-0.65, 0.001, 0.015),
        }
    )
    graded = bottom_line(stats, _power(), 0.05, _population())[1]
    assert "of the 2 significant correlations, both have the wrong sign (type S error)" in graded
    assert (
        "IFG_L\u2013willingness to harm, r = 0.50 where the population value is \u22120.24 "
        "(2.1 times as large in size)"
    ) in graded
    assert (
        "IFG_L\u2013deontological inclination D, r = \u22120.65 where the population value is 0.30"
    ) in graded
    assert (
        "The study detected 0 of the 4 correlations that exist in the simulated population "
        "with the right sign"
    ) in graded
    claim = bottom_line(stats, _power(), 0.05, _population())[3]
    assert "The 2 significant correlations here need replication" in claim


def test_right_sign_but_too_large_is_named_type_m_with_its_ratio():
    stats = _stats({("IFG_L", "D"): (0.60, 0.001, 0.01)})
    graded = bottom_line(stats, _power(), 0.05, _population())[1]
    assert "of the 1 significant correlation, it is inflated (type M error)" in graded
    assert (
        "IFG_L\u2013deontological inclination D, r = 0.60: 2.0 times the population value 0.30"
    ) in graded
    assert "The study detected 1 of the 4 correlations" in graded
    # the threshold is a parameter: at 2.5 the same result is not called inflated
    lenient = bottom_line(stats, _power(), 0.05, _population(), inflated_ratio=2.5)[1]
    assert "it is about right in sign and size" in lenient


def test_right_sign_and_size_is_not_called_an_error():
    stats = _stats({("IFG_L", "D"): (0.32, 0.001, 0.01)})
    graded = bottom_line(stats, _power(), 0.05, _population())[1]
    assert "it is about right in sign and size" in graded
    assert "type S" not in graded and "type M" not in graded


def test_a_significant_null_pair_is_a_false_positive_and_mixed_results_are_listed():
    stats = _stats(
        {("IFG_L", "U"): (0.55, 0.001, 0.01), ("IFG_R", "willingness_to_harm"): (0.52, 0.002, 0.02)}
    )
    graded = bottom_line(stats, _power(), 0.05, _population())[1]
    assert "1 has the wrong sign (type S error), 1 is a false positive" in graded
    assert (
        "false positive: IFG_L\u2013utilitarian inclination U, r = 0.55 where the population "
        "value is 0"
    ) in graded
    assert "wrong sign: IFG_R\u2013willingness to harm" in graded


def test_real_data_has_no_grading_only_what_data_and_power_say():
    stats = _stats({("IFG_L", "willingness_to_harm"): (0.50, 0.002, 0.03)})
    paragraphs = bottom_line(stats, _power(), 0.05, population=None)
    text = "\n".join(paragraphs)
    assert len(paragraphs) == 3
    assert "truth" not in text and "population" not in text and "type S error" not in text
    assert "2.5 times the assumed value in size (type M)" in paragraphs[1]
    assert "if the correlations were as strong as the configuration assumes" in paragraphs[1]
    assert "pairs the configuration assumes uncorrelated" in paragraphs[1]
    assert "The significant correlation here needs replication" in paragraphs[2]


def test_power_paragraph_reads_the_table_at_the_study_n():
    power = bottom_line(_stats(), _power(), 0.05, _population())[2]
    assert "(N = 19)" in power and "11% uncorrected" in power  # 0.007 * 8 + 0.05
    assert "on average 2.5 times the population value in size (type M)" in power
    assert "wrong sign in 10% of those studies (type S)" in power
    assert "No simulated size reaches 80% power after Holm (N = 400: 20%)" in power
    assert "at least one Holm-significant false positive in 1.5% of such studies" in power
    reached = bottom_line(_stats(), _power(holm_growth=5.0), 0.05, _population())[2]
    assert "80% power after Holm needs N = 400 of the simulated sizes" in reached
    missing = bottom_line(_stats(n=25), _power(), 0.05, _population())[2]
    assert "no row at this study's N = 25 (it has N = 19, 100, 400)" in missing


def test_a_well_powered_design_may_claim_more():
    paragraphs = bottom_line(_stats(), _power(holm_at_19=0.9), 0.05, _population())
    assert "it is well powered for correlations of the assumed size" in paragraphs[3]
    assert "argues against a correlation as strong as r = 0.30" in paragraphs[3]
    moderate = bottom_line(_stats(), _power(holm_at_19=0.6), 0.05, _population())[3]
    assert "suggestive but its size is likely overstated (type M about 2.5)" in moderate


def test_other_selections_are_counted_by_the_same_standard():
    stats = _stats(selections=("independent", "behaviour_peak"))
    stats.loc[stats["selection"] == "behaviour_peak", "p_corrected"] = [0.01, 0.5, 1, 1, 1, 1]
    last = bottom_line(stats, _power(), 0.05, _population())[-1]
    assert last.startswith(
        "Other ROI selections, same standard (significant after Holm): "
        "behaviour_peak 1 of 6 (ROIs chosen on the same scores"
    )


def test_bad_tables_are_refused_with_the_missing_columns():
    with pytest.raises(ValueError, match="p_corrected"):
        bottom_line(_stats().drop(columns="p_corrected"), _power(), 0.05)
    with pytest.raises(ValueError, match="independent"):
        bottom_line(_stats(selections=("group_peak",)), _power(), 0.05)
    with pytest.raises(ValueError, match="lacks the pair"):
        bottom_line(_stats(), _power(), 0.05, _population().iloc[:3])


def test_the_text_is_plain_markdown_and_restructured_text_at_once(tmp_path: Path):
    """Included into the report (reST) it renders without a system message; markup is escaped."""
    from docutils.core import publish_parts

    stats = _stats({("IFG_L", "willingness_to_harm"): (0.50, 0.002, 0.03)})
    paragraphs = bottom_line(stats, _power(), 0.05, _population())
    paragraphs.append("A |made-up| *line* with a `tick` and a name_ at its end")
    text = bottom_line_text(paragraphs)
    assert text.count("\n- ") == len(paragraphs) - 1 and text.startswith("- ")
    assert "\\|made-up\\|" in text and "\\*line\\*" in text and "name\\_ at" in text
    path = tmp_path / "conclusion.md"
    path.write_text(text)
    html = publish_parts(
        f"Bottom line\n-----------\n\n.. include:: {path}\n",
        writer="html",
        settings_overrides={"report_level": 1},
    )["body"]
    assert "System Message" not in html and "system-message" not in html
    assert html.count("<li>") == len(paragraphs)
    assert "|made-up|" in html and "IFG_L\u2013willingness to harm" in html


def test_console_message_prints_the_written_conclusion_and_only_what_exists(tmp_path: Path):
    import os
    import time

    from empathy_fmri.io.console import finished_message

    results = tmp_path / "results"
    (results / "stats").mkdir(parents=True)
    stats = results / "stats" / "brain_behaviour.tsv"
    stats.write_text("old\n")
    os.utime(stats, (time.time() - 3600, time.time() - 3600))
    started = time.time()
    # a run of one job: no figures, no conclusion
    message = finished_message(results, started, results / "conclusion.md", [stats])
    assert message.startswith("empathy-fmri: done. This run wrote nothing new")
    assert "figure" not in message and "tables in " in message
    assert "No bottom line yet" in message
    # a full run: figures and the conclusion, printed verbatim
    (results / "figures").mkdir()
    (results / "figures" / "group_map.png").write_bytes(b"png")
    (results / "power").mkdir()
    (results / "power" / "power_curves.png").write_bytes(b"png")
    text = bottom_line_text(bottom_line(_stats(), _power(), 0.05, _population()))
    (results / "conclusion.md").write_text(text)
    message = finished_message(results, started, results / "conclusion.md", [stats])
    (results / "derivatives").mkdir()
    (results / "derivatives" / "design.png").write_bytes(b"png")  # not a figure of the report
    message = finished_message(results, started, results / "conclusion.md", [stats])
    assert "This run wrote 4 files under" in message
    assert "2 figures of the report among them" in message
    assert f"2 figures in {results}/figures, {results}/power (report:" in message
    assert message.rstrip().endswith(text.strip())
    assert "older than" not in message
    # the statistics changed after the conclusion was written: say it is out of date
    os.utime(results / "conclusion.md", (started - 10, started - 10))
    stats.write_text("new\n")
    assert "older than" in finished_message(results, started, results / "conclusion.md", [stats])


def test_console_message_prints_the_warnings_after_the_bottom_line(tmp_path: Path):
    """A run with an excluded participant and too few permutations says both at its end."""
    import os
    import time

    import yaml

    from empathy_fmri.config.checks import statistical_warnings
    from empathy_fmri.io.console import finished_message
    from empathy_fmri.jobs.warnings_record import warning_items

    results = tmp_path / "results"
    results.mkdir()
    started = time.time()
    conclusion = results / "conclusion.md"
    conclusion.write_text(bottom_line_text(bottom_line(_stats(), _power(), 0.05, _population())))
    warnings = results / "warnings.md"
    # no record yet (a run of part of the workflow): said, not passed over
    message = finished_message(results, started, conclusion, [], warnings)
    assert f"No warnings record yet: {warnings}" in message
    analysis = {
        **yaml.safe_load((REPO / "config.yaml").read_text())["analysis"],
        "n_permutations_stats": 99,
    }
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02"],
            "analysed": ["yes", "no"],
            "reason": ["n/a", "moved 3 mm"],
        }
    )
    items = warning_items(
        statistical_warnings(18, analysis), participants, [], {}, "moral_dilemmas.tsv", ["sub-02"]
    )
    warnings.write_text(bottom_line_text(items))
    inputs = results / "participants.tsv"
    inputs.write_text("made before the record\n")
    os.utime(inputs, (started - 60, started - 60))
    message = finished_message(results, started, conclusion, [], warnings, [inputs])
    assert message.index("Bottom line (") < message.index(f"Warnings ({warnings}):")
    assert message.rstrip().endswith(bottom_line_text(items).strip())
    assert "'analysis.n_permutations_stats'" in message and "Holm" in message
    assert "sub-02 ('analysis.participants.exclude', reason: moved 3 mm)" in message
    # the record older than what it is made from: marked, as the bottom line is
    os.utime(warnings, (started - 120, started - 120))
    assert f"Warnings ({warnings}, older than {inputs}" in finished_message(
        results, started, conclusion, [], warnings, [inputs]
    )
    # the console of an older workflow, which gives no record, prints none
    assert "Warnings" not in finished_message(results, started, conclusion)


def test_type_m_and_s_from_few_significant_studies_are_qualified():
    """Few Holm-significant simulated studies: the bottom line says the figures are rough."""
    power = _power()
    power["n_significant_holm"] = 300
    assert "rest on only" not in bottom_line(_stats({}), power, 0.05, _population())[2]
    power.loc[(power["roi"] == "IFG_L") & (power["score"] == "D"), "n_significant_holm"] = 12
    text = bottom_line(_stats({}), power, 0.05, _population())[2]
    assert "Both rest on only 12 significant simulated studies" in text
