"""scripts/compare_results.py tells equal results folders from changed ones."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_results.py"


def _run(old: Path, new: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(old), str(new), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _lines(result: subprocess.CompletedProcess) -> dict[str, str]:
    """Each file's verdict, keyed by its path."""
    verdicts = {}
    for line in result.stdout.splitlines()[:-1]:
        name, _, verdict = line.partition(": ")
        verdicts[name] = verdict
    return verdicts


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A tiny results folder with a table, a JSON document, an image and a figure."""
    root = tmp_path / "old"
    (root / "roi").mkdir(parents=True)
    (root / "roi" / "roi_contrasts.tsv").write_text(
        "participant_id\troi\tneedle_minus_swab\tn_voxels\n"
        "sub-01\tAI_L\t1.61974\t11\n"
        "sub-02\tAI_L\tn/a\t11\n"
        "sub-03\taMCC\t-0.25\t9\n"
    )
    (root / "stats").mkdir()
    (root / "stats" / "summary.json").write_text(
        json.dumps(
            {
                "config_hash": "e97ac0c8790f",
                "GeneratedBy": [{"Name": "empathy-fmri", "Version": "0.1.0"}],
                "alpha": 0.05,
                "results": [{"roi": "AI_L", "r": 0.0753, "p": None}, {"roi": "aMCC", "r": -0.2}],
            }
        )
    )
    (root / "maps").mkdir()
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    nib.save(nib.Nifti1Image(data, np.eye(4)), root / "maps" / "z.nii.gz")
    (root / "figures").mkdir()
    (root / "figures" / "plot.png").write_bytes(b"not really a png")
    return root


@pytest.fixture
def copy(results: Path) -> Path:
    new = results.parent / "new"
    shutil.copytree(results, new)
    return new


def test_identical_folders_exit_0(results: Path, copy: Path) -> None:
    result = _run(results, copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "3 files compared, 0 differ, 0 missing"
    assert set(_lines(result).values()) == {"same"}
    assert "figures/plot.png" not in result.stdout


def test_a_number_changed_beyond_tolerance_is_named(results: Path, copy: Path) -> None:
    table = copy / "roi" / "roi_contrasts.tsv"
    table.write_text(table.read_text().replace("-0.25", "-0.251"))
    result = _run(results, copy)
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = _lines(result)
    assert verdicts["roi/roi_contrasts.tsv"].startswith("differs:"), result.stdout
    assert "needle_minus_swab" in verdicts["roi/roi_contrasts.tsv"]
    assert verdicts["stats/summary.json"] == "same"
    assert result.stdout.splitlines()[-1] == "3 files compared, 1 differ, 0 missing"


def test_a_change_within_tolerance_is_the_same(results: Path, copy: Path) -> None:
    table = copy / "roi" / "roi_contrasts.tsv"
    table.write_text(table.read_text().replace("-0.25", "-0.2500000001"))
    assert _run(results, copy).returncode == 0
    assert _run(results, copy, "--rtol", "0", "--atol", "0").returncode == 1


def test_json_numbers_and_ignored_keys(results: Path, copy: Path) -> None:
    document = copy / "stats" / "summary.json"
    content = json.loads(document.read_text())
    content["config_hash"] = "000000000000"
    content["GeneratedBy"][0]["Version"] = "0.2.0"
    document.write_text(json.dumps(content))
    result = _run(results, copy)
    assert result.returncode == 0, result.stdout
    assert _lines(result)["stats/summary.json"] == "same (ignored: config_hash, GeneratedBy)"

    content["results"][1]["r"] = -0.21
    document.write_text(json.dumps(content))
    result = _run(results, copy)
    assert result.returncode == 1
    assert "results[1].r" in _lines(result)["stats/summary.json"]


def test_image_data_and_affine_are_compared(results: Path, copy: Path) -> None:
    image = copy / "maps" / "z.nii.gz"
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    data[1, 2, 3] += 0.01
    nib.save(nib.Nifti1Image(data, np.eye(4)), image)
    result = _run(results, copy)
    assert result.returncode == 1
    assert "1 of 24 voxels" in _lines(result)["maps/z.nii.gz"]

    original = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    nib.save(nib.Nifti1Image(original, np.diag([2.0, 2.0, 2.0, 1.0])), image)
    result = _run(results, copy)
    assert result.returncode == 1
    assert _lines(result)["maps/z.nii.gz"].startswith("differs: affine")


def test_a_missing_file_exits_1(results: Path, copy: Path) -> None:
    (copy / "stats" / "summary.json").unlink()
    (copy / "stats" / "extra.tsv").write_text("a\n1\n")
    result = _run(results, copy)
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = _lines(result)
    assert verdicts["stats/summary.json"] == "missing in new"
    assert verdicts["stats/extra.tsv"] == "new only"
    assert result.stdout.splitlines()[-1] == "2 files compared, 0 differ, 1 missing"


def test_a_file_only_in_new_does_not_fail(results: Path, copy: Path) -> None:
    (copy / "stats" / "extra.json").write_text("{}")
    result = _run(results, copy)
    assert result.returncode == 0, result.stdout
    assert _lines(result)["stats/extra.json"] == "new only"


def test_changed_columns_are_reported(results: Path, copy: Path) -> None:
    table = copy / "roi" / "roi_contrasts.tsv"
    table.write_text(table.read_text().replace("roi\tneedle", "region\tneedle"))
    result = _run(results, copy)
    assert result.returncode == 1
    assert "columns" in _lines(result)["roi/roi_contrasts.tsv"]
