"""The fast first level gives nilearn's ``FirstLevelModel`` statistics.

:func:`~empathy_fmri.analysis.first_level.fit_first_level` runs nilearn's steps
itself (smoothing on the mask's bounding box, the AR(1) coefficients of all
voxels at once); these tests fit a simulated subject both ways and compare the
maps, and check each replaced piece against the nilearn code it stands for.
"""

from __future__ import annotations

import copy

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn import image
from nilearn.glm.first_level import FirstLevelModel, run_glm
from nilearn.glm.first_level.first_level import _yule_walker
from nilearn.maskers import NiftiMasker

from empathy_fmri.analysis.first_level import (
    analysis_mask,
    confound_regressors,
    fit_first_level,
    smooth_and_mask,
)
from empathy_fmri.analysis.glm_fit import ar1_coefficients, run_glm_fast
from empathy_fmri.config import StudyConfig
from empathy_fmri.io.layout import FMRIPREP_FOLDER, SIMULATED_SPACE, find_runs
from empathy_fmri.jobs.simulate import write_subject
from empathy_fmri.simulation.population import participant_id
from empathy_fmri.task.conditions import CONDITIONS, CONTRASTS
from empathy_fmri.task.hrf import block_response_peak

MOTION = {"strategy": ["motion"], "motion": "basic"}


@pytest.fixture(scope="module")
def subject(tiny_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One simulated subject of the tiny study with two runs, read back from BIDS."""
    config = copy.deepcopy(tiny_config)
    config["design"]["n_runs"] = 2
    study = StudyConfig.from_dict(config)
    root = tmp_path_factory.mktemp("fast_first_level")
    write_subject(study.simulation, study.n_subjects, 0, root / "bids", root / "truth")
    bids = root / "bids"
    runs = find_runs(
        bids,
        bids / FMRIPREP_FOLDER,
        participant_id(0, study.n_subjects),
        study.simulation.task_name,
        SIMULATED_SPACE,
    )
    assert len(runs) == 2
    events = [pd.read_csv(r.events, sep="\t") for r in runs]
    confounds = [pd.read_csv(r.confounds, sep="\t") for r in runs]
    return {
        "runs": [str(r.bold) for r in runs],
        "events": events,
        "confounds": confound_regressors(confounds, MOTION),
        "tr": study.design.tr,
    }


def _nilearn_maps(subject: dict, noise_model: str, fwhm: float) -> dict:
    """The maps as the project computed them before: FirstLevelModel itself."""
    mask = analysis_mask(subject["runs"][0])
    masker = NiftiMasker(mask_img=mask, smoothing_fwhm=fwhm or None, dtype="float32").fit()
    model = FirstLevelModel(
        t_r=subject["tr"],
        slice_time_ref=0.0,
        hrf_model="glover",
        drift_model="cosine",
        high_pass=0.008,
        noise_model=noise_model,
        smoothing_fwhm=fwhm or None,
        mask_img=masker,
        signal_scaling=0,
        minimize_memory=True,
    )
    model.fit(
        [image.load_img(r, dtype="float32") for r in subject["runs"]],
        events=[e[["onset", "duration", "trial_type"]] for e in subject["events"]],
        confounds=subject["confounds"],
    )
    events = pd.concat(subject["events"])
    block_s = float(events.loc[events["trial_type"].isin(CONDITIONS), "duration"].median())
    peak = block_response_peak("glover", block_s)
    maps = {}
    with pytest.warns(RuntimeWarning, match="same contrast"):
        for label, formula in CONTRASTS.items():
            out = model.compute_contrast(formula, output_type="all")
            maps[label] = {
                "effect": out["effect_size"].get_fdata() * peak,
                "variance": out["effect_variance"].get_fdata() * peak**2,
                "z": out["z_score"].get_fdata(),
            }
    return maps


@pytest.mark.parametrize(("noise_model", "fwhm"), [("ar1", 6.0), ("ols", 0.0)])
def test_fast_first_level_gives_first_level_model_maps(subject, noise_model, fwhm):
    reference = _nilearn_maps(subject, noise_model, fwhm)
    fast = fit_first_level(
        subject["runs"],
        subject["events"],
        subject["confounds"],
        subject["tr"],
        noise_model=noise_model,
        smoothing_fwhm_mm=fwhm,
    )
    for label, stats in reference.items():
        z = fast.maps[label]["z"].get_fdata()
        # A real comparison: the maps hold strong effects, not zeros.
        assert np.abs(stats["z"]).max() > 5
        assert np.abs(z - stats["z"]).max() < 1e-3, label
        for stat in ("effect", "variance"):
            ours = fast.maps[label][stat].get_fdata()
            scale = np.abs(stats[stat]).max()
            assert np.abs(ours - stats[stat]).max() < 1e-5 * scale, (label, stat)
    assert set(fast.timings) >= {"load", "smooth_mask", "glm", "contrasts"}


def test_ar1_coefficients_are_yule_walker_of_order_one():
    rng = np.random.default_rng(0)
    residuals = rng.standard_normal((120, 500)).cumsum(axis=0) * 0.1 + 0.3
    expected = _yule_walker(residuals.T, 1)[:, 0]
    np.testing.assert_allclose(ar1_coefficients(residuals), expected, rtol=1e-12, atol=1e-14)


def test_run_glm_fast_groups_and_fits_as_run_glm():
    rng = np.random.default_rng(1)
    n_scans, n_voxels = 100, 800
    design = np.column_stack([rng.standard_normal((n_scans, 3)), np.ones(n_scans)])
    noise = rng.standard_normal((n_scans, n_voxels))
    rho = rng.uniform(-0.2, 0.6, n_voxels)
    for t in range(1, n_scans):
        noise[t] += rho * noise[t - 1]
    data = (design @ rng.standard_normal((4, n_voxels)) + noise).astype(np.float32)
    labels, results = run_glm(data, design, noise_model="ar1")
    fast_labels, fast_results = run_glm_fast(data, design, noise_model="ar1")
    assert len(results) == len(fast_results) > 20
    theta = np.empty((4, n_voxels))
    dispersion = np.empty(n_voxels)
    for key, result in results.items():
        theta[:, labels == key] = result.theta
        dispersion[labels == key] = result.dispersion
    for key, result in fast_results.items():
        where = fast_labels == key
        # Every fast group is exactly one of run_glm's.
        assert len(set(labels[where])) == 1
        np.testing.assert_allclose(result.theta, theta[:, where], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(result.dispersion, dispersion[where], rtol=1e-10)


def test_smooth_and_mask_is_nifti_masker_transform():
    rng = np.random.default_rng(2)
    shape = (14, 16, 12)
    data = rng.standard_normal((*shape, 7)).astype(np.float32)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    mask = np.zeros(shape, bool)
    mask[3:9, 0:10, 4:12] = True  # touches two faces of the volume
    mask[5, 5, 5] = False
    masker = NiftiMasker(
        nib.Nifti1Image(mask.astype(np.uint8), affine),
        smoothing_fwhm=6.0,
        dtype="float32",
        standardize=None,
    ).fit()
    expected = masker.transform(nib.Nifti1Image(data, affine))
    ours = smooth_and_mask(data, affine, mask, 6.0)
    assert ours.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(ours, expected)
