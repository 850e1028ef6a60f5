"""ROI-mean GLMs (issue 16): unbiased in psc, honest variances, better than smoothed averages."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn import image

from empathy_fmri.analysis.roi_glm import fit_roi_glm, roi_mean_series
from empathy_fmri.evaluation.inference import dependent_correlation_z
from empathy_fmri.simulation.design import BlockDesign, block_order, run_events
from empathy_fmri.task.hrf import condition_regressors

N_SERIES = 400
TRUE_NEEDLE_PSC, TRUE_SWAB_PSC = 1.2, 0.4


def _runs(rng: np.random.Generator, noise_sd: float, n_runs: int = 2):
    """Independent 'voxels' with a planted block response at nilearn's glover HRF."""
    design = BlockDesign(tr_s=2.0, n_runs=n_runs, blocks_per_condition=5, block_s=16.0, rest_s=12.0)
    images, events = [], []
    for run in range(n_runs):
        table = run_events(design, block_order(design, 0, run, rng))
        regressors = condition_regressors(table, design.frame_times_s, "glover")
        signal = 1000.0 * (
            1 + (TRUE_NEEDLE_PSC * regressors["needle"] + TRUE_SWAB_PSC * regressors["swab"]) / 100
        )
        data = signal[None, :] + noise_sd * rng.standard_normal((N_SERIES, design.n_scans))
        images.append(
            nib.Nifti1Image(data.reshape(N_SERIES, 1, 1, -1).astype(np.float32), np.eye(4))
        )
        events.append(table)
    masks = {}
    for k in range(N_SERIES):
        mask = np.zeros((N_SERIES, 1, 1), bool)
        mask[k] = True
        masks[f"v{k}"] = mask
    return images, events, masks


def test_roi_glm_is_unbiased_and_its_variance_is_the_sampling_variance():
    """Mean effect within 4 SE of the planted needle - swab; z of the errors has SD 1.

    400 independent series, white noise: the mean of the effects has SE
    sqrt(mean variance / 400), and the SD of (effect - truth) / sqrt(variance)
    has SE 1/sqrt(2 * 400) = 0.035, so 4 SE = 0.14 (estimated AR(1) wobble included).
    """
    images, events, masks = _runs(np.random.default_rng(3), noise_sd=10.0)
    table = fit_roi_glm(
        images,
        events,
        None,
        2.0,
        masks,
        drift_model="cosine",
        high_pass_hz=0.008,
        noise_model="ar1",
    )
    truth = TRUE_NEEDLE_PSC - TRUE_SWAB_PSC
    se_mean = np.sqrt(table["variance"].mean() / N_SERIES)
    assert abs(table["effect"].mean() - truth) < 4 * se_mean
    z = (table["effect"] - truth) / np.sqrt(table["variance"])
    assert abs(z.std(ddof=1) - 1.0) < 4 / np.sqrt(2 * N_SERIES)


def test_roi_mean_series_averages_the_mask_and_names_bad_masks():
    data = np.arange(2 * 1 * 1 * 3, dtype=np.float32).reshape(2, 1, 1, 3)
    img = nib.Nifti1Image(data, np.eye(4))
    both = np.ones((2, 1, 1), bool)
    series = roi_mean_series(img, {"both": both})
    np.testing.assert_allclose(series[:, 0], data.reshape(2, 3).mean(axis=0))
    with pytest.raises(ValueError, match="'empty' is empty"):
        roi_mean_series(img, {"empty": np.zeros((2, 1, 1), bool)})
    with pytest.raises(ValueError, match="'wrong' has shape"):
        roi_mean_series(img, {"wrong": np.ones((3, 1, 1), bool)})


def test_steiger_z_is_standard_normal_under_the_null():
    """Two noisy copies of one measure, equally reliable: Z ~ N(0, 1).

    2000 samples of n = 24: the SD of Z has SE 1/sqrt(4000) = 0.016 (4 SE: 0.063).
    """
    rng = np.random.default_rng(11)
    values = []
    for _ in range(2000):
        truth = rng.standard_normal(24)
        a = truth + 0.5 * rng.standard_normal(24)
        b = truth + 0.5 * rng.standard_normal(24)
        r = np.corrcoef([truth, a, b])
        values.append(dependent_correlation_z(r[0, 1], r[0, 2], r[1, 2], 24))
    values = np.asarray(values)
    assert abs(values.mean()) < 4 / np.sqrt(2000)
    assert abs(values.std() - 1) < 4 / np.sqrt(4000)


@pytest.mark.e2e
def test_chosen_roi_estimate_recovers_the_truth_at_least_as_well(tiny_run):
    """Per ROI, r(roi_mean_glm, truth) is not below r(smoothed average, truth).

    The two estimates are of the same subjects and correlate strongly, so the
    comparison uses Steiger's Z for dependent correlations; failing means Z
    below -2.88 (one-sided 1% with Bonferroni over the five ROIs).
    """
    roi = pd.read_csv(tiny_run / "results/roi/roi_contrasts.tsv", sep="\t")
    truth = pd.read_csv(tiny_run / "results/truth/participants_truth.tsv", sep="\t")
    recovery = pd.read_csv(tiny_run / "results/validation/amplitude_recovery.tsv", sep="\t")
    assert {"r_smoothed_average", "r_roi_mean_glm"} <= set(recovery.columns)
    truth = truth.set_index("participant_id")
    independent = roi[roi["selection"] == "independent"]
    np.testing.assert_allclose(
        independent["needle_minus_swab"], independent["needle_minus_swab_roi_glm"]
    )
    for name, group in independent.groupby("roi"):
        true = truth.loc[group["participant_id"], f"true_{name}"].to_numpy()
        glm = group["needle_minus_swab_roi_glm"].to_numpy()
        smoothed = group["needle_minus_swab_smoothed"].to_numpy()
        r = np.corrcoef([true, glm, smoothed])
        row = recovery[(recovery["roi"] == name) & (recovery["selection"] == "independent")]
        assert row["r_roi_mean_glm"].iloc[0] == pytest.approx(r[0, 1], abs=1e-6)
        assert row["r_smoothed_average"].iloc[0] == pytest.approx(r[0, 2], abs=1e-6)
        z = dependent_correlation_z(r[0, 1], r[0, 2], r[1, 2], len(true))
        assert z > -2.88, f"{name}: ROI-mean GLM r {r[0, 1]:.3f} < smoothed r {r[0, 2]:.3f}"


def test_roi_mean_series_of_a_scaled_file_equals_the_float32_image_means(tmp_path):
    """int16 data with scl_slope/scl_inter on disk: the means are bit for bit those
    of load_img(dtype="float32") averaged per mask (what the ROI GLM fitted before
    it scaled only the voxels of the masks); overlapping masks included."""
    rng = np.random.default_rng(5)
    data = (1000 + 50 * rng.standard_normal((6, 5, 4, 30))).astype(np.float32)
    img = nib.Nifti1Image(data, np.eye(4))
    img.set_data_dtype(np.int16)
    img.header.set_slope_inter(0.0441, 3.5)
    path = tmp_path / "bold.nii.gz"
    nib.save(img, path)
    assert nib.load(path).dataobj.slope == pytest.approx(0.0441)
    masks = {f"m{k}": rng.random((6, 5, 4)) < 0.3 for k in range(5)}
    masks["all"] = np.ones((6, 5, 4), bool)
    full = np.asarray(image.load_img(path, dtype="float32").dataobj, dtype=np.float32)
    expected = np.stack([full[m].mean(axis=0, dtype=np.float64) for m in masks.values()], axis=1)
    assert np.array_equal(roi_mean_series(path, masks), expected)
    assert np.array_equal(roi_mean_series(nib.load(path), masks), expected)
