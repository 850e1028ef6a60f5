"""Whole-brain brain-behaviour maps on small synthetic data (no workflow run).

The data: smooth Gaussian noise maps on nilearn's 6 mm MNI mask (the grid of
the tiny workflow), one per subject, plus a planted term ``b * score * blob``
with a positive blob at IFG_L and a negative one at IFG_R, so the true
voxelwise correlation there is known in sign and large.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn import datasets
from scipy import ndimage, stats

from empathy_fmri.analysis.behaviour_maps import (
    CLUSTER_COLUMNS,
    behaviour_cluster_table,
    fit_behaviour_map,
    r_from_t,
    score_design,
)
from empathy_fmri.config.sections import AnalysisConfig
from empathy_fmri.io.bids import bids_label, statmap_path
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.jobs.behaviour_maps import run_behaviour_map

ROIS = {"AI_L": [-32, 26, 6], "IFG_L": [-50, 15, 15], "IFG_R": [51, 14, 15]}
POSITIVE, NEGATIVE = ROIS["IFG_L"], ROIS["IFG_R"]
N_SUBJECTS = 16
ALPHA = 0.05


@pytest.fixture(scope="module")
def mask() -> nib.Nifti1Image:
    return datasets.load_mni152_brain_mask(resolution=6)


def _blob(mask_img: nib.Nifti1Image, centre_mm, sd_mm: float = 7.0) -> np.ndarray:
    ijk = np.indices(mask_img.shape).reshape(3, -1)
    xyz = (mask_img.affine[:3, :3] @ ijk + mask_img.affine[:3, 3:]).T
    distance = np.linalg.norm(xyz - np.asarray(centre_mm, float), axis=1)
    return np.exp(-0.5 * (distance / sd_mm) ** 2).reshape(mask_img.shape)


def _effect_maps(
    mask_img: nib.Nifti1Image, score: np.ndarray, strength: float, seed: int
) -> list[nib.Nifti1Image]:
    """Smooth unit-variance noise per subject plus ``strength * score`` at the two blobs."""
    rng = np.random.default_rng(seed)
    inside = np.asarray(mask_img.dataobj) > 0
    planted = _blob(mask_img, POSITIVE) - _blob(mask_img, NEGATIVE)
    standard = (score - score.mean()) / score.std()
    maps = []
    for value in standard:
        noise = ndimage.gaussian_filter(rng.standard_normal(mask_img.shape), sigma=1.0)
        noise /= noise[inside].std()
        data = (noise + strength * value * planted) * inside
        maps.append(nib.Nifti1Image(data.astype(np.float32), mask_img.affine))
    return maps


def _scores(seed: int, n: int = N_SUBJECTS) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.uniform(0.1, 0.9, n), index=[f"sub-{i:02d}" for i in range(1, n + 1)])


@pytest.fixture(scope="module")
def planted(mask):
    """A score planted at both blobs (r about +-0.95 at their centres) and its maps."""
    score = _scores(1)
    maps = _effect_maps(mask, score.to_numpy(), strength=3.0, seed=2)
    design = score_design(score, "willingness_to_harm")
    result = fit_behaviour_map(maps, design, mask, alpha=ALPHA, n_permutations=199, random_state=3)
    return score, maps, result


def _voxel(img: nib.Nifti1Image, xyz) -> tuple[int, int, int]:
    ijk = np.linalg.inv(img.affine) @ np.r_[np.asarray(xyz, float), 1.0]
    return tuple(int(v) for v in np.rint(ijk[:3]))


# --- the statistics -------------------------------------------------------------------------


def test_r_map_is_pearson_r_at_every_tested_voxel(planted, mask):
    score, maps, result = planted
    stack = np.stack([np.asarray(m.dataobj, float) for m in maps], axis=-1)
    r = np.asarray(result.r.dataobj)
    assert r.dtype == np.float32
    inside = np.argwhere(np.asarray(mask.dataobj) > 0)
    rng = np.random.default_rng(0)
    voxels = [
        *(inside[k] for k in rng.choice(len(inside), 20, replace=False)),
        _voxel(mask, POSITIVE),
        _voxel(mask, NEGATIVE),
    ]
    for voxel in voxels:
        expected = stats.pearsonr(stack[tuple(voxel)], score.to_numpy()).statistic
        # r is computed from the float32-stored t map and stored as float32: relative
        # rounding 2**-24 = 6e-8 in each, and |dr/dt| <= 1/sqrt(df), so the error is
        # below 1e-7; nilearn's float64 OLS adds ~1e-12. 1e-6 leaves a tenfold margin
        # and still fails for any wrong df (df = n - 1 instead of n - 2 moves r by ~1e-2).
        assert r[tuple(voxel)] == pytest.approx(expected, abs=1e-6), voxel


def test_r_from_t_inverts_the_t_of_r():
    r = np.linspace(-0.99, 0.99, 41)
    df = 17
    t = r * np.sqrt(df / (1 - r**2))
    np.testing.assert_allclose(r_from_t(t, df), r, atol=1e-12)
    with pytest.raises(ValueError, match="df"):
        r_from_t(t, 0)


def test_z_follows_the_sign_of_r(planted, mask):
    _, _, result = planted
    inside = np.asarray(mask.dataobj) > 0
    z = np.asarray(result.z.dataobj)[inside]
    r = np.asarray(result.r.dataobj)[inside]
    # Both come from the same t (z = Phi^-1(t cdf)), so the signs agree wherever
    # r is not rounded to zero; |r| > 1e-6 excludes only such voxels.
    tested = np.abs(r) > 1e-6
    assert tested.sum() > 0.99 * inside.sum()
    assert np.array_equal(np.sign(z[tested]), np.sign(r[tested]))
    assert z[r > 0.5].min() > 0 and z[r < -0.5].max() < 0


def test_planted_correlation_is_an_fwe_cluster_at_the_right_place(planted, mask):
    """Both planted regions survive FWE, each with the sign of its planted r.

    At the blob centres the planted r is about +-0.95 (signal SD 3 over noise
    SD 1); at n = 16 (df 14) that is |t| > 10, far beyond the max-|t| null of
    a few thousand smooth voxels (about 5-6), so it passes for any noise seed,
    and the observed maximum beats every permutation: its FWE p is the
    smallest the count allows, 1 / (199 + 1).
    """
    _, _, result = planted
    logp = np.asarray(result.logp_fwe.dataobj)
    for centre in (POSITIVE, NEGATIVE):
        assert logp[_voxel(mask, centre)] > -np.log10(ALPHA)
    assert logp.max() == pytest.approx(np.log10(200), abs=1e-5)
    table = behaviour_cluster_table(result.z_fwe, result.r, ROIS, min_voxels=2)
    assert list(table.columns) == list(CLUSTER_COLUMNS)
    by_roi = {row.nearest_roi: row for row in table.itertuples()}
    assert {"IFG_L", "IFG_R"} <= set(by_roi)
    assert by_roi["IFG_L"].peak_r > 0.8 and by_roi["IFG_L"].peak_z > 0
    assert by_roi["IFG_R"].peak_r < -0.8 and by_roi["IFG_R"].peak_z < 0
    for name in ("IFG_L", "IFG_R"):
        # the peak is within one 6 mm voxel (diagonal 10.4 mm) of the planted centre
        assert by_roi[name].distance_mm <= 10.4
        assert by_roi[name].size_voxels >= 2
        assert by_roi[name].size_mm3 == pytest.approx(216 * by_roi[name].size_voxels)
    # FDR is two-sided too: voxels of both signs pass it
    z_fdr = np.asarray(result.z_fdr.dataobj)
    assert (z_fdr > 0).any() and (z_fdr < 0).any()
    assert np.isfinite(result.fdr_threshold)


@pytest.mark.slow
def test_null_score_gives_fwe_voxels_in_about_alpha_of_studies(mask):
    """20 studies whose score is independent of the maps: FWE errs in about alpha of them.

    With 99 permutations the FWE p values are multiples of 1/100 and "p < 0.05"
    means p <= 0.04, so under the null each study has a false-positive voxel
    with probability at most 0.04 (the max-type permutation test is exact).
    The count over 20 studies is then at most Binomial(20, 0.04): mean 0.8 and
    P(count >= 5) = 0.007. A test that lost its correction (or tested one side
    at 2 alpha, or did not permute) would put a voxel below alpha in nearly
    every study. In every study the smallest p is at least 1 / (99 + 1).
    """
    n_studies, n_permutations = 20, 99
    with_false_positive = 0
    for study in range(n_studies):
        score = _scores(100 + study)
        maps = _effect_maps(mask, _scores(200 + study).to_numpy(), strength=0.0, seed=study)
        result = fit_behaviour_map(
            maps,
            score_design(score, "D"),
            mask,
            alpha=ALPHA,
            n_permutations=n_permutations,
            random_state=study,
        )
        logp = np.asarray(result.logp_fwe.dataobj)
        assert logp.max() <= np.log10(n_permutations + 1) + 1e-5
        with_false_positive += bool((np.asarray(result.z_fwe.dataobj) != 0).any())
    assert with_false_positive <= 4


def test_null_score_fwe_p_is_never_below_the_permutation_floor(mask):
    """One null study: no FWE p below 1/(n_perm + 1), and (at this seed) nothing survives.

    The floor is exact, whatever the data. That nothing survives holds with
    probability at least 0.96 under the null (see the slow test above); the
    seed is fixed, so this is a regression check, not a random one.
    """
    score = _scores(7)
    maps = _effect_maps(mask, _scores(8).to_numpy(), strength=0.0, seed=9)
    result = fit_behaviour_map(
        maps, score_design(score, "U"), mask, alpha=ALPHA, n_permutations=49, random_state=4
    )
    logp = np.asarray(result.logp_fwe.dataobj)
    assert logp.max() <= np.log10(50) + 1e-5
    assert not (np.asarray(result.z_fwe.dataobj) != 0).any()
    table = behaviour_cluster_table(result.z_fwe, result.r, ROIS)
    assert table.empty and list(table.columns) == list(CLUSTER_COLUMNS)


def test_design_is_intercept_and_demeaned_score():
    design = score_design(pd.Series([1.0, 2.0, 6.0], index=["a", "b", "c"]), "D")
    assert list(design.columns) == ["intercept", "D"]
    np.testing.assert_allclose(design["D"], [-2.0, -1.0, 3.0])
    np.testing.assert_allclose(design["intercept"], 1.0)


def test_constant_score_is_an_error_naming_it():
    with pytest.raises(ValueError, match="score 'willingness_to_harm' is 0.5 for all 5"):
        score_design(pd.Series([0.5] * 5), "willingness_to_harm")


# --- the job --------------------------------------------------------------------------------


def _job_inputs(tmp_path: Path, mask: nib.Nifti1Image, n: int = 8) -> dict:
    score = _scores(11, n)
    maps = _effect_maps(mask, score.to_numpy(), strength=3.0, seed=12)
    paths = []
    for subject, img in zip(score.index, maps, strict=True):
        path = tmp_path / "glm" / subject / f"{subject}_effect.nii.gz"
        path.parent.mkdir(parents=True)
        nib.save(img, path)
        paths.append(str(path))
    phenotype = tmp_path / "bids" / "phenotype" / "moral_dilemmas.tsv"
    phenotype.parent.mkdir(parents=True)
    pd.DataFrame(
        {
            "participant_id": score.index,
            "willingness_to_harm": score.to_numpy(),
            "D": score.to_numpy()[::-1],
        }
    ).to_csv(phenotype, sep="\t", index=False)
    return {"effects": paths, "subjects": list(score.index), "phenotype": phenotype}


def _outputs(folder: Path, score: str = "willingness_to_harm") -> dict[str, Path]:
    label = bids_label(score)
    stat = {
        key: statmap_path(folder, None, "empathy", "needleMinusSwab", s, d, score=label)
        for key, s, d in [
            ("z", "z", None),
            ("r", "r", None),
            ("z_fdr", "z", "fdr"),
            ("logp_fwe", "logp", "fwe"),
        ]
    }
    stem = folder / "group" / f"task-empathy_contrast-needleMinusSwab_score-{label}"
    return {
        **stat,
        "clusters": Path(f"{stem}_desc-fwe_clusters.tsv"),
        "summary": Path(f"{stem}_summary.json"),
    }


def _run(inputs: dict, outputs: dict, score: str = "willingness_to_harm") -> None:
    run_behaviour_map(
        inputs["effects"],
        inputs["subjects"],
        inputs["phenotype"],
        score,
        AnalysisConfig(n_permutations=49, cluster_min_voxels=2),
        ROIS,
        outputs,
        seed=5,
    )


def test_job_writes_every_output_byte_identically(tmp_path, mask):
    inputs = _job_inputs(tmp_path, mask)
    first, second = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    _run(inputs, first)
    _run(inputs, second)
    assert first["r"].name == (
        "task-empathy_contrast-needleMinusSwab_score-willingnessToHarm_stat-r_statmap.nii.gz"
    )
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key
    summary = json.loads(first["summary"].read_text())
    assert summary["n_subjects"] == 8 and summary["df"] == 6
    assert summary["subjects"] == inputs["subjects"]
    table = pd.read_csv(first["clusters"], sep="\t")
    assert list(table.columns) == list(CLUSTER_COLUMNS)
    assert summary["n_clusters_fwe"] == len(table)
    assert not list(tmp_path.rglob(".tmp-*"))


def test_empty_cluster_table_keeps_its_header(tmp_path, mask):
    zeros = nib.Nifti1Image(np.zeros(mask.shape, np.float32), mask.affine)
    table = behaviour_cluster_table(zeros, zeros, ROIS)
    from empathy_fmri.io.atomic import write_tsv

    write_tsv(tmp_path / "clusters.tsv", table)
    assert (tmp_path / "clusters.tsv").read_text() == "\t".join(CLUSTER_COLUMNS) + "\n"


def _edit_phenotype(path: Path, edit) -> None:
    table = pd.read_csv(path, sep="\t", dtype={"participant_id": str})
    table = edit(table)
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")


def _check_refused(tmp_path: Path, inputs: dict, parts: list[str], score: str) -> None:
    outputs = _outputs(tmp_path / "out", score)
    with pytest.raises(InputFileError) as caught:
        _run(inputs, outputs, score)
    message = str(caught.value)
    for part in ["moral_dilemmas.tsv", *parts]:
        assert part in message, f"{part!r} not in: {message}"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


def test_subject_without_phenotype_row_is_an_error_naming_them(tmp_path, mask):
    inputs = _job_inputs(tmp_path, mask)
    _edit_phenotype(inputs["phenotype"], lambda t: t[t["participant_id"] != "sub-06"])
    _check_refused(tmp_path, inputs, ["sub-06", "no row"], "willingness_to_harm")


def test_missing_score_is_an_error_naming_the_subject(tmp_path, mask):
    inputs = _job_inputs(tmp_path, mask)

    def spoil(table: pd.DataFrame) -> pd.DataFrame:
        table["D"] = table["D"].astype(object)
        table.loc[table["participant_id"] == "sub-03", "D"] = "n/a"
        return table

    _edit_phenotype(inputs["phenotype"], spoil)
    _check_refused(tmp_path, inputs, ["sub-03", "'D'"], "D")


def test_constant_score_is_an_error_naming_the_score(tmp_path, mask):
    inputs = _job_inputs(tmp_path, mask)
    _edit_phenotype(inputs["phenotype"], lambda t: t.assign(D=0.25))
    _check_refused(tmp_path, inputs, ["score 'D'", "constant"], "D")


def test_bids_label_is_camel_case():
    assert bids_label("willingness_to_harm") == "willingnessToHarm"
    assert bids_label("D") == "D"
    assert bids_label("empathic concern-score") == "empathicConcernScore"
    with pytest.raises(ValueError):
        bids_label("__")
