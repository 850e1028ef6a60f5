"""End to end: the HTML report of the tiny run holds every figure, with its caption."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import TINY_CONFIG, copy_workflow, run_snakemake

pytestmark = pytest.mark.e2e

#: Every figure the workflow draws (PNG, in the report) for the tiny config.
FIGURES = [
    "task_timeline",
    "design_matrix",
    "roi_timeseries",
    "rois",
    "group_map",
    "roi_effects",
    "reliability",
    "brain_behaviour_score-willingness_to_harm",
    "brain_behaviour_score-D",
    "brain_behaviour_score-U",
    "behaviour_map_score-willingness_to_harm",
    "behaviour_map_score-D",
    "behaviour_map_score-U",
]
#: Vector copies of the charts.
VECTOR = [
    "task_timeline",
    "roi_timeseries",
    "roi_effects",
    "reliability",
    "brain_behaviour_score-willingness_to_harm",
]
CATEGORIES = [
    "0. Bottom line",
    "1. Task design",
    "2. One subject",
    "3. Brain maps",
    "4. ROI effects",
    "5. Brain-behaviour",
    "6. Validation",
]


@pytest.fixture(scope="module")
def report_html(tiny_run: Path) -> str:
    result = run_snakemake(
        tiny_run,
        "--configfile",
        "tiny_config.yaml",
        "--report",
        "results/report.html",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # docutils reports caption mistakes (e.g. an unescaped |r|) without failing
    caption_errors = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "(ERROR/" in line or "(SEVERE/" in line
    ]
    assert not caption_errors, caption_errors
    return (tiny_run / "results" / "report.html").read_text()


def test_every_figure_is_drawn_and_logged(tiny_run: Path):
    figures = tiny_run / "results" / "figures"
    assert sorted(p.stem for p in figures.glob("*.png")) == sorted(FIGURES)
    for name in VECTOR:
        assert (figures / f"{name}.svg").stat().st_size > 0, name
    for log in [
        "figure_task_timeline",
        "figure_group_map",
        "figure_brain_behaviour/D",
        "figure_behaviour_map/D",
        "validate_correlations",
    ]:
        assert "done in" in (tiny_run / "logs" / f"{log}.log").read_text(), log


def test_report_holds_every_figure_with_a_rendered_caption(report_html: str):
    for name in FIGURES:
        key = f'"results/figures/{name}.png": '
        assert key in report_html, f"{name}.png is not in the report"
        record, _ = json.JSONDecoder().raw_decode(report_html, report_html.index(key) + len(key))
        assert record["data_uri"].startswith("data:image/png;"), name
        assert len(record["data_uri"]) > 20_000, f"{name}: image missing from the report"
        caption = record["caption"]
        assert len(caption) > 200, f"{name}: caption missing or short"
        assert "{{" not in caption and "System Message" not in caption, name


def test_report_holds_every_figure_of_the_run(tiny_run: Path, report_html: str):
    """Figures of other stages (validation, power) are in the report too."""
    results = tiny_run / "results"
    pngs = [
        png
        for folder in ("figures", "validation", "power")
        for png in (results / folder).glob("*.png")
    ]
    assert len(pngs) >= len(FIGURES)
    for png in pngs:
        assert f'"{png.relative_to(tiny_run).as_posix()}": ' in report_html, png.name


def test_captions_quote_the_config_they_were_made_with(report_html: str, tiny_config):
    assert f"With {tiny_config['n_subjects']} subjects" in report_html
    assert f"Each block lasts\\n{tiny_config['design']['block_s']} s" in report_html


def test_report_has_categories_and_a_workflow_description(report_html: str, tiny_config):
    for category in CATEGORIES:
        assert f'"{category}"' in report_html, category
    assert "empathy-fmri: a simulated empathy-for-pain fMRI study" in report_html
    assert f"simulated {tiny_config['n_subjects']} participants" in report_html


def _workflow_description(report_html: str) -> str:
    """The HTML of the report's first screen (the workflow description beside the rule graph)."""
    key = "var workflow_desc = "
    text, _ = json.JSONDecoder().raw_decode(report_html, report_html.index(key) + len(key))
    return text


def test_report_opens_with_the_bottom_line(tiny_run: Path, report_html: str):
    """The first screen states the conclusion, generated from this run's tables."""
    description = _workflow_description(report_html)
    conclusion = (tiny_run / "results" / "conclusion.md").read_text()
    assert conclusion.startswith("- Finding: ")
    assert (
        description.index("Bottom line")
        < description.index("Finding: ")
        < description.index("The study")
    )
    for paragraph in conclusion.split("\n\n"):
        first_words = paragraph.removeprefix("- ").split(":")[0]
        assert re.search(f"<li>(<p>)?{re.escape(first_words)}:", description), first_words
    assert (
        "after Holm" in description
        and "What a study of this design can honestly claim" in description
    )
    assert "System Message" not in description and "system-message" not in description
    # the same text starts the validation summary
    summary = (tiny_run / "results" / "validation" / "summary.md").read_text()
    assert "## Bottom line\n\n" + conclusion.strip() in summary


def test_report_shows_the_warnings_beside_the_bottom_line(tiny_run: Path, report_html: str):
    """The warnings record follows the conclusion on the first screen, as written."""
    description = _workflow_description(report_html)
    warnings = (tiny_run / "results" / "warnings.md").read_text()
    assert warnings.startswith("- No warnings: ")  # see test_workflow: a clean tiny study
    first_words = warnings.removeprefix("- ").split(":")[0]
    assert (
        description.index("What a study of this design can honestly claim")
        < description.index("Warnings</")
        < description.index(f"{first_words}:")
        < description.index("The study")
    )
    assert re.search(r"<li>(<p>)?No warnings: every participant", description)
    assert '"results/warnings.md": ' in report_html  # and its own entry with the caption


def test_too_few_permutations_and_an_exclusion_reach_record_console_and_report(
    tiny_run: Path, tmp_path: Path
):
    """The tiny run's first-level records, re-read under a config that warns twice.

    With 99 permutations the smallest permutation p is 1/100, so Holm across
    the 15 ROI x score pairs cannot go below 0.15; sub-02 is excluded. Only
    the participants table and the record are made again (from the tiny
    run's files), then the report of that record.
    """
    workdir = copy_workflow(tmp_path / "warned")
    shutil.copy(TINY_CONFIG, workdir / "tiny_config.yaml")
    for pattern in [
        "analysis/participants.tsv",
        "stats/brain_behaviour.json",
        "derivatives/glm/sub-*/*_desc-inputs.json",
    ]:
        for path in (tiny_run / "results").glob(pattern):
            copy = workdir / path.relative_to(tiny_run)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, copy)
    options = [
        "--configfile",
        "tiny_config.yaml",
        "--config",
        "analysis={n_permutations_stats: 99, participants: {exclude: {sub-02: moved 4 mm}}}",
        "--allowed-rules",
        "participants_table",
        "warnings_record",
    ]
    run = run_snakemake(
        workdir,
        "--cores",
        "1",
        *options,
        "--forcerun",
        "participants_table",
        "warnings_record",
        "--",
        "results/warnings.md",
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    record = (workdir / "results" / "warnings.md").read_text()
    holm = "after Holm's correction across the 15 ROI x score pairs"
    excluded = (
        "Left out of the analysis: sub-02 ('analysis.participants.exclude', reason: moved 4 mm)"
    )
    for text in (holm, excluded, "'analysis.n_permutations_stats' to at least 300"):
        assert text in record, text
    # the same words before the first job (stderr) and after the bottom line (stdout)
    assert holm in run.stderr
    assert run.stdout.rstrip().endswith(record.strip())
    report = run_snakemake(
        workdir,
        *options,
        "--report",
        "results/report.html",
        "--",
        "results/warnings.md",
        timeout=300,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    description = _workflow_description((workdir / "results" / "report.html").read_text())
    shown = html.unescape(re.sub(r"<[^>]+>", "", description))  # the text as a reader sees it
    assert shown.index("Warnings") < shown.index(holm) < shown.index("The study")
    assert excluded in shown
    assert "System Message" not in description
