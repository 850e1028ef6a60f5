"""End to end: the HTML report of the tiny run holds every figure, with its caption."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_snakemake

pytestmark = pytest.mark.e2e

#: Every figure the workflow draws (PNG, in the report) for the tiny config.
FIGURES = [
    "task_timeline",
    "design_matrix",
    "roi_timeseries",
    "rois",
    "group_map",
    "roi_effects",
    "brain_behaviour_score-willingness_to_harm",
    "brain_behaviour_score-D",
    "brain_behaviour_score-U",
    "behaviour_map_score-willingness_to_harm",
    "behaviour_map_score-D",
    "behaviour_map_score-U",
]
#: Vector copies of the charts.
VECTOR = ["task_timeline", "roi_timeseries", "roi_effects",
          "brain_behaviour_score-willingness_to_harm"]
CATEGORIES = ["0. Bottom line", "1. Task design", "2. One subject", "3. Brain maps",
              "4. ROI effects", "5. Brain-behaviour", "6. Validation"]


@pytest.fixture(scope="module")
def report_html(tiny_run: Path) -> str:
    result = run_snakemake(
        tiny_run, "--configfile", "tiny_config.yaml", "--report", "results/report.html",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # docutils reports caption mistakes (e.g. an unescaped |r|) without failing
    caption_errors = [line for line in (result.stdout + result.stderr).splitlines()
                      if "(ERROR/" in line or "(SEVERE/" in line]
    assert not caption_errors, caption_errors
    return (tiny_run / "results" / "report.html").read_text()


def test_every_figure_is_drawn_and_logged(tiny_run: Path):
    figures = tiny_run / "results" / "figures"
    assert sorted(p.stem for p in figures.glob("*.png")) == sorted(FIGURES)
    for name in VECTOR:
        assert (figures / f"{name}.svg").stat().st_size > 0, name
    for log in ["figure_task_timeline", "figure_group_map", "figure_brain_behaviour/D",
                "figure_behaviour_map/D", "validate_correlations"]:
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
        png for folder in ("figures", "validation", "power")
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
    assert description.index("Bottom line") < description.index("Finding: ") \
        < description.index("The study")
    for paragraph in conclusion.split("\n\n"):
        first_words = paragraph.removeprefix("- ").split(":")[0]
        assert re.search(f"<li>(<p>)?{re.escape(first_words)}:", description), first_words
    assert "after Holm" in description and "What a study of this design can honestly claim" \
        in description
    assert "System Message" not in description and "system-message" not in description
    # the same text starts the validation summary
    summary = (tiny_run / "results" / "validation" / "summary.md").read_text()
    assert "## Bottom line\n\n" + conclusion.strip() in summary
