"""What the workflow prints when a run ends: what it wrote, where, and the bottom line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["FIGURE_FOLDERS", "finished_message"]

#: Folders of the results whose PNGs are the report's figures.
FIGURE_FOLDERS = ("figures", "validation", "power")


def _written_since(results: Path, started: float) -> list[Path]:
    """Files under ``results`` modified at or after ``started`` (1 s of clock slack)."""
    if not results.is_dir():
        return []
    return [
        path
        for path in results.rglob("*")
        if path.is_file() and path.stat().st_mtime >= started - 1.0
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def finished_message(
    results: str | Path,
    started: float,
    conclusion: str | Path,
    conclusion_inputs: Sequence[str | Path] = (),
    warnings: str | Path | None = None,
    warnings_inputs: Sequence[str | Path] = (),
) -> str:
    """Say what a finished run wrote and print its bottom line and warnings, from the files on disk.

    Nothing is recomputed: the bottom line is the text of ``conclusion`` as
    the rule ``conclusion`` wrote it, the warnings follow it as the rule
    ``warnings_record`` wrote them, and a folder is named only if it holds
    what the sentence says (a run of one job does not claim figures).

    Parameters
    ----------
    results : path
        The results folder (``results``).
    started : float
        When the run started (``time.time()``); files modified since then
        were written by this run.
    conclusion : path
        ``conclusion.md``.
    conclusion_inputs : sequence of path
        Tables the conclusion is made from; if one of them is newer, the
        printed conclusion is marked as out of date.
    warnings : path, optional
        ``warnings.md``, printed after the bottom line (its absence is said
        when there is a bottom line); None leaves the warnings out.
    warnings_inputs : sequence of path
        Files the warnings record is made from, as ``conclusion_inputs``.

    Returns
    -------
    str
        Lines to print, starting with ``empathy-fmri: done.``.
    """
    results, conclusion = Path(results), Path(conclusion)
    written = _written_since(results, started)
    figures = [
        path
        for path in written
        if path.suffix == ".png"
        and path.parent.name in FIGURE_FOLDERS
        and path.parent.parent == results
    ]
    if written:
        built = f"This run wrote {_count(len(written), 'file')} under {results}/" + (
            f", {_count(len(figures), 'figure')} of the report among them." if figures else "."
        )
    else:
        built = "This run wrote nothing new under results (it was up to date)."
    lines = [f"empathy-fmri: done. {built}"]
    places = [
        f"{name} in {results}/{folder}"
        for name, folder in (
            ("tables", "stats"),
            ("ROI values", "roi"),
            ("maps", "derivatives/glm"),
        )
        if (results / folder).is_dir()
    ]
    figure_folders = {
        folder: len(list((results / folder).glob("*.png"))) for folder in FIGURE_FOLDERS
    }
    n_figures = sum(figure_folders.values())
    if n_figures:
        folders = ", ".join(f"{results}/{folder}" for folder, n in figure_folders.items() if n)
        places.append(
            f"{_count(n_figures, 'figure')} in {folders} (report: snakemake "
            f"--report {results}/report.html)"
        )
    if places:
        lines.append("Results: " + "; ".join(places) + ".")
    if conclusion.is_file():
        lines += [
            "",
            f"Bottom line ({conclusion}{_out_of_date(conclusion, conclusion_inputs)}):",
            "",
            conclusion.read_text(encoding="utf-8").strip(),
        ]
    else:
        lines.append(
            f"No bottom line yet: {conclusion} is written by the full run (snakemake --cores 4)."
        )
    if warnings is not None:
        warnings = Path(warnings)
        if warnings.is_file():
            lines += [
                "",
                f"Warnings ({warnings}{_out_of_date(warnings, warnings_inputs)}):",
                "",
                warnings.read_text(encoding="utf-8").strip(),
            ]
        elif conclusion.is_file():
            lines.append(
                f"No warnings record yet: {warnings} is written by the full run "
                "(snakemake --cores 4)."
            )
    return "\n".join(lines)


def _out_of_date(path: Path, inputs: Sequence[str | Path]) -> str:
    """A note naming the ``inputs`` newer than ``path``, or nothing."""
    newer = [
        str(p)
        for p in map(Path, inputs)
        if p.is_file() and p.stat().st_mtime > path.stat().st_mtime
    ]
    return f", older than {', '.join(newer)}: run snakemake --cores 4 to update it" if newer else ""
