"""The a-priori ROIs of a dataset from elsewhere, measured on its own grid (job roi_coverage).

The dataset is the ds006243-like one of ``tests/layouts.py``: an 8 mm
grid (the simulation's default is 3 mm) with fMRIPrep's ``res-2`` names and
a brain mask per run.
"""

from __future__ import annotations

import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from layouts import write_ds006243_like

from empathy_fmri.anatomy.spheres import voxel_coordinates_mm
from empathy_fmri.config import AnalysisConfig, load_config
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.jobs.roi_coverage import run_roi_coverage
from empathy_fmri.pipeline.roi import ALL, masks_from_centres
from empathy_fmri.pipeline.study_config import check_study_config

GREY = 0.3  # anatomy.grey_matter_threshold's default


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_ds006243_like(tmp_path_factory.mktemp("coverage") / "bids")


def _masks(root):
    return sorted((root / "derivatives" / "fmriprep").rglob("*_desc-brain_mask.nii.gz"))


def _analysis(**changes) -> AnalysisConfig:
    analysis = load_config(REPO / "config.yaml")["analysis"]
    analysis.update(changes)
    return AnalysisConfig.from_dict(analysis)


def _analysis_roi_voxels(analysis: AnalysisConfig, reference: nib.Nifti1Image) -> dict[str, int]:
    """The independent ROIs as the analysis builds them on a grid (roi_centres.tsv rows)."""
    centres = pd.DataFrame(
        [
            {
                "roi": name,
                "selection": "independent",
                "score": ALL,
                "participant_id": ALL,
                "x": c[0],
                "y": c[1],
                "z": c[2],
                "radius_mm": analysis.roi_radius_mm,
            }
            for name, c in analysis.rois.items()
        ]
    )
    masks = masks_from_centres(centres, reference, GREY)[("independent", ALL, ALL)]
    return {name: int(mask.sum()) for name, mask in masks.items()}


def test_rois_are_counted_on_the_data_grid_as_the_analysis_builds_them(dataset, tmp_path):
    analysis = _analysis(roi_radius_mm=16)
    masks = _masks(dataset)
    table = run_roi_coverage(masks, [], analysis, GREY, tmp_path / "coverage.tsv")
    assert set(table["voxel_size_mm"]) == {"8x8x8"}
    assert len(table) == len(masks) * len(analysis.rois)
    # the masks cover the whole MNI brain, so each count is the analysis's own ROI on the
    # 8 mm grid (masks_from_centres, as roi_definitions builds them), voxel for voxel
    expected = _analysis_roi_voxels(analysis, nib.load(masks[0]))
    for path in masks:
        got = table[table["file"] == str(path)].set_index("roi")["n_voxels"].to_dict()
        assert got == expected
    assert min(expected.values()) >= analysis.min_roi_voxels
    assert (
        pd.read_csv(tmp_path / "coverage.tsv", sep="\t")["n_voxels"].tolist()
        == table["n_voxels"].tolist()
    )


def test_rois_too_small_on_the_data_grid_are_refused_naming_roi_count_and_file(dataset, tmp_path):
    analysis = _analysis()  # the default 8 mm spheres: a few voxels on an 8 mm grid
    masks = _masks(dataset)
    counts = _analysis_roi_voxels(analysis, nib.load(masks[0]))
    small = {roi: n for roi, n in counts.items() if n < analysis.min_roi_voxels}
    assert small  # on the default 3 mm grid every one of them holds enough (config check)
    with pytest.raises(InputFileError) as caught:
        run_roi_coverage(masks, [], analysis, GREY, tmp_path / "coverage.tsv")
    message = str(caught.value)
    for roi, n in small.items():
        assert f"ROI '{roi}'" in message and f"holds {n} grey-matter voxel(s)" in message
    for roi in set(counts) - set(small):
        assert f"ROI '{roi}'" not in message
    assert str(masks[0]) in message and "'analysis.min_roi_voxels' = 5" in message
    assert f"{len(masks)} of {len(masks)} masks hold fewer" in message
    assert not (tmp_path / "coverage.tsv").exists()


def test_a_mask_that_misses_an_roi_is_refused_naming_that_mask(dataset, tmp_path):
    data = tmp_path / "bids"
    shutil.copytree(dataset, data)
    analysis = _analysis(roi_radius_mm=16)
    masks = _masks(data)
    cut = next(p for p in masks if "sub-02" in p.name)
    img = nib.load(cut)
    inside = np.asarray(img.dataobj) > 0
    # no data within 15 mm of the aMCC centre (a dropout), on one run of sub-02
    distance = np.linalg.norm(
        voxel_coordinates_mm(img.affine, img.shape) - np.asarray(analysis.rois["aMCC"]), axis=-1
    )
    nib.Nifti1Image((inside & (distance > 15)).astype(np.uint8), img.affine).to_filename(cut)
    cut_counts = _analysis_roi_voxels(analysis, img)
    with pytest.raises(InputFileError) as caught:
        run_roi_coverage(masks, [], analysis, GREY, tmp_path / "coverage.tsv")
    message = str(caught.value)
    assert message.startswith(f"Input file '{cut}'")
    assert "ROI 'aMCC'" in message and f"1 of {len(masks)} masks hold fewer" in message
    assert sum(f"ROI '{roi}'" in message for roi in analysis.rois) == 1
    # the count named is the aMCC voxels beyond 15 mm of its centre, fewer than in full
    held = int(message.split("holds ")[1].split(" ")[0])
    assert held < analysis.min_roi_voxels < cut_counts["aMCC"]


def test_a_run_without_a_mask_is_measured_on_its_bold_grid(dataset, tmp_path):
    analysis = _analysis(roi_radius_mm=16)
    bold = sorted(
        (dataset / "derivatives" / "fmriprep").rglob(
            "*_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz"
        )
    )[0]
    table = run_roi_coverage([], [bold], analysis, GREY, tmp_path / "coverage.tsv")
    reference = nib.Nifti1Image(np.zeros(nib.load(bold).shape[:3]), nib.load(bold).affine)
    assert table.set_index("roi")["n_voxels"].to_dict() == _analysis_roi_voxels(analysis, reference)


def test_an_unreadable_mask_is_named(dataset, tmp_path):
    bad = tmp_path / "sub-01_desc-brain_mask.nii.gz"
    bad.write_text("")
    with pytest.raises(InputFileError, match="sub-01_desc-brain_mask.nii.gz.*3D NIfTI brain mask"):
        run_roi_coverage([bad], [], _analysis(), GREY, tmp_path / "coverage.tsv")


def test_the_config_check_leaves_a_bids_dir_study_to_its_own_grid():
    config = load_config(REPO / "config.yaml")
    # 40 grey-matter voxels in 4 mm spheres (about 10 voxels of 3 mm): too few on the
    # simulation grid
    config["analysis"].update(roi_radius_mm=4, min_roi_voxels=40)
    config["power"]["replicates"]["voxel_size_mm"] = 3  # no replicate grid of its own
    with pytest.raises(Exception, match="grey-matter voxels at 'analysis.roi_radius_mm'"):
        check_study_config(config)
    config["analysis"]["bids_dir"] = "/data/lab"
    check_study_config(config)  # measured by roi_coverage on the data's grid instead
