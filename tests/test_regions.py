"""The simulated regions are not the analyst's spheres: shapes, offsets and their grading."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nilearn
import numpy as np
import pandas as pd
import pytest

from empathy_fmri.anatomy.spheres import sphere_masks, voxel_coordinates_mm
from empathy_fmri.anatomy.template import load_anatomy
from empathy_fmri.config import StudyConfig
from empathy_fmri.evaluation.roi_placement import region_peaks, roi_placement
from empathy_fmri.simulation.regions import PROFILE_FLOOR, region_profiles, shape_field


@pytest.fixture(scope="module")
def study(default_config) -> StudyConfig:
    return StudyConfig.from_dict(default_config)


@pytest.fixture(scope="module")
def anatomy3(study):
    return load_anatomy(3, study.anatomy.grey_matter_threshold)


def _regions(study, anatomy, **changes):
    regions = dataclasses.replace(study.regions, **changes)
    field = shape_field(
        anatomy.shape, anatomy.voxel_size_mm, regions.irregularity_fwhm_mm, regions.shape_seed
    )
    return region_profiles(
        regions.centres,
        regions.radius_mm,
        regions.irregularity,
        field,
        anatomy.affine,
        anatomy.grey_mask,
    )


def test_regions_are_irregular_disjoint_and_average_one(study, anatomy3):
    masks, profiles = _regions(study, anatomy3)
    coords = voxel_coordinates_mm(anatomy3.affine, anatomy3.shape)
    union = np.zeros(anatomy3.shape, int)
    offsets = []
    for name, mask in masks.items():
        union += mask
        assert mask.sum() >= 20, name
        assert not (mask & ~anatomy3.grey_mask).any(), name
        assert profiles[name][mask].mean() == pytest.approx(1.0)
        assert np.all(profiles[name][~mask] == 0)
        assert profiles[name][mask].min() >= PROFILE_FLOOR * profiles[name].max() - 1e-12
        peak = coords[np.unravel_index(np.argmax(profiles[name]), mask.shape)]
        offsets.append(np.linalg.norm(peak - np.asarray(study.regions.centres[name])))
        # not a sphere: some voxel at the reach is in, some nearer one is out
        distance = np.linalg.norm(coords - np.asarray(study.regions.centres[name]), axis=-1)
        sphere = sphere_masks(
            {name: study.regions.centres[name]},
            float(np.max(distance[mask])),
            anatomy3.affine,
            anatomy3.grey_mask,
        )[name]
        assert (sphere & ~mask).sum() > 0.1 * mask.sum(), name
    assert union.max() == 1
    # the random field moves the peaks off the configured centres (a Gaussian
    # ball alone would peak at the centre voxel, within half a voxel diagonal)
    assert np.mean(offsets) > 0.5 * np.sqrt(3) * 3


def test_without_irregularity_a_region_peaks_at_its_centre(study, anatomy3):
    masks, profiles = _regions(study, anatomy3, irregularity=0.0)
    coords = voxel_coordinates_mm(anatomy3.affine, anatomy3.shape)
    for name, profile in profiles.items():
        peak = coords[np.unravel_index(np.argmax(profile), profile.shape)]
        nearest_grey = coords[masks[name]][
            np.argmin(
                np.linalg.norm(
                    coords[masks[name]] - np.asarray(study.regions.centres[name]), axis=-1
                )
            )
        ]
        assert np.allclose(peak, nearest_grey), name


def test_shapes_follow_the_shape_seed_only(study, anatomy3):
    first, _ = _regions(study, anatomy3)
    again, _ = _regions(study, anatomy3)
    other, _ = _regions(study, anatomy3, shape_seed=study.regions.shape_seed + 1)
    assert all(np.array_equal(first[n], again[n]) for n in first)
    assert any(not np.array_equal(first[n], other[n]) for n in first)


def test_default_rois_are_dosenbach_nodes_offset_from_the_regions(study):
    """The a-priori ROIs are the Dosenbach et al. (2010) nodes nilearn ships, 5-12 mm off."""
    table = pd.read_csv(Path(nilearn.__file__).parent / "datasets/data/dosenbach_2010.csv")
    nodes = {tuple(row) for row in table[["x", "y", "z"]].to_numpy(int)}
    for name, centre in study.analysis.rois.items():
        assert tuple(int(c) for c in centre) in nodes, name
        distance = np.linalg.norm(np.subtract(centre, study.regions.centres[name]))
        assert 5 <= distance <= 12, (name, distance)


def test_roi_placement_measures_distance_and_overlap():
    shape, affine = (20, 20, 20), np.diag([2.0, 2.0, 2.0, 1.0])
    grid = np.indices(shape).transpose(1, 2, 3, 0)
    region = np.linalg.norm(grid - 10, axis=-1) <= 3
    same = region.copy()
    shifted = np.linalg.norm(grid - [13, 10, 10], axis=-1) <= 3
    centres = pd.DataFrame(
        {
            "roi": ["A", "A", "B"],
            "selection": ["independent", "group_peak", "independent"],
            "x": [20.0, 26.0, 0.0],
            "y": [20.0, 20.0, 0.0],
            "z": [20.0, 20.0, 0.0],
        }
    )
    mean_map = np.where(region, 1.0, 0.0)
    mean_map[10, 10, 11] = 2.0
    peaks = region_peaks({"A": region}, mean_map, affine)
    assert peaks["A"] == [20.0, 20.0, 22.0]
    table = roi_placement(centres, [same, shifted, same], {"A": region}, {"A": [20, 20, 20]}, peaks)
    assert list(table["selection"]) == ["independent", "group_peak"]  # B has no region
    first, second = table.iloc[0], table.iloc[1]
    assert first["dice"] == 1.0 and first["region_covered"] == 1.0
    assert first["distance_to_centre_mm"] == 0.0 and first["distance_to_peak_mm"] == 2.0
    both = (region & shifted).sum()
    assert second["dice"] == pytest.approx(2 * both / (region.sum() + shifted.sum()))
    assert 0 < second["dice"] < 1
    assert second["distance_to_centre_mm"] == pytest.approx(6.0)


def _whole_grid_spheres(centres_mm, radius_mm, affine, within):
    """sphere_masks as it was computed before the boxes: every voxel to every centre."""
    coords = voxel_coordinates_mm(affine, within.shape)
    centres = np.asarray(list(centres_mm.values()), float)
    distances = np.linalg.norm(coords[..., None, :] - centres, axis=-1)
    nearest = np.argmin(distances, axis=-1)
    inside = np.min(distances, axis=-1) <= radius_mm
    return {name: within & inside & (nearest == k) for k, name in enumerate(centres_mm)}


def test_sphere_masks_in_boxes_equal_the_whole_grid_computation(study, anatomy3):
    """Same voxels exactly, ties included (whole-mm centres on the 3 mm grid put
    voxels at exactly the radius), for overlapping spheres, the edge of the grid
    and a sheared affine (the box must bound the sphere for any affine)."""
    rng = np.random.default_rng(4)
    sheared = anatomy3.affine.copy()
    sheared[:3, :3] = sheared[:3, :3] @ np.array(
        [[0.9, 0.2, 0.0], [-0.2, 0.9, 0.1], [0.0, 0.1, 1.0]]
    )
    cases = [(study.regions.centres, study.regions.radius_mm, anatomy3.affine)]
    for trial in range(12):
        centres = rng.integers(-75, 75, (3, 3)) if trial % 2 else rng.uniform(-75, 75, (3, 3))
        radius = float(rng.choice([3.0, 6.0, 9.0, 15.0]))
        affine = sheared if trial % 3 == 0 else anatomy3.affine
        cases.append(({f"r{k}": c.tolist() for k, c in enumerate(centres)}, radius, affine))
    for centres, radius, affine in cases:
        fast = sphere_masks(centres, radius, affine, anatomy3.grey_mask)
        whole = _whole_grid_spheres(centres, radius, affine, anatomy3.grey_mask)
        assert list(fast) == list(whole)
        for name in whole:
            assert np.array_equal(fast[name], whole[name]), (centres, radius, name)
    assert any(mask.any() for mask in fast.values())
    with pytest.raises(ValueError, match="finite"):
        sphere_masks({"a": [np.nan, 0.0, 0.0]}, 6.0, anatomy3.affine, anatomy3.grey_mask)
