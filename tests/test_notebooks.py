"""The notebooks: stored without outputs, and run headless against the tiny run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_both_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_results.ipynb",
        "02_change_a_parameter.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


#: Appended to notebook 02 by the tests: the power curve it drew for (ROI, SCORE).
POWER_PROBE = """
import json
panel = power_figure.axes[list(inputs.population.scores).index(SCORE)]
holm = [line for line in panel.get_lines()
        if line.get_linestyle() == "-" and line.get_marker() == "o"]
print(json.dumps({"roi": ROI, "score": SCORE,
                  "holm": [line.get_xydata().tolist() for line in holm]}))
"""


@pytest.fixture(scope="module")
def executed(tiny_run: Path) -> dict[str, nbformat.NotebookNode]:
    """Each notebook run headless against the tiny run (02 with the power probe appended)."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    done = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMPATHY_FMRI_RESULTS", str(tiny_run / "results"))
        for path in NOTEBOOKS:
            notebook = nbformat.read(path, as_version=4)
            if path.stem.startswith("02"):
                notebook.cells.append(new_code_cell(POWER_PROBE))
            client = NotebookClient(
                notebook,
                timeout=300,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute()  # raises CellExecutionError on any error
            done[path.stem] = notebook
    return done


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_against_the_tiny_run(path: Path, executed):
    notebook = executed[path.stem]
    images = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert images, f"{path.name} showed no figure"


@pytest.mark.e2e
def test_notebook_01_shows_every_figure_of_the_report(tiny_run: Path, executed):
    results = tiny_run / "results"
    pngs = [
        png
        for folder in ("figures", "validation", "power")
        for png in sorted((results / folder).glob("*.png"))
    ]
    notebook = executed["01_explore_results"]
    shown = {
        output["data"]["text/markdown"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    }
    for png in pngs:
        assert f"### {png.parent.name}/{png.name}" in shown, png
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert f"= {len(pngs)} figures" in printed
    assert "FDR threshold: z = " in printed or "no voxel survives" in printed
    fdr = printed.split("FDR threshold: z = ")[-1].split(" ")[0]
    assert len(fdr.split(".")[-1]) <= 2, f"FDR threshold printed as {fdr}"


@pytest.mark.e2e
def test_notebook_02_power_figure_is_the_power_table(tiny_run: Path, executed):
    """Notebook 02's power curve for its ROI x score equals results/power/power.tsv, N by N."""
    import json

    import pandas as pd

    probe = executed["02_change_a_parameter"].cells[-1]
    drawn = json.loads("".join(output.get("text", "") for output in probe.outputs))
    (holm_line,) = drawn["holm"]  # one ROI: one solid line per panel
    table = pd.read_csv(tiny_run / "results" / "power" / "power.tsv", sep="\t")
    rows = table[(table["roi"] == drawn["roi"]) & (table["score"] == drawn["score"])]
    expected = rows.set_index("sample_size")["power_holm"]
    drawn_power = {int(n): y for n, y in holm_line}
    assert sorted(drawn_power) == sorted(expected.index)
    assert {19, 100} <= set(drawn_power)  # the notebook's N = 19 vs N = 100
    for n, y in drawn_power.items():
        assert y == pytest.approx(expected[n], abs=1e-5), n  # the TSV's 6 digits
