"""Config validation: the schema, the cross-field checks, and what the user sees."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import REPO, copy_workflow, run_snakemake

from empathy_fmri.config import ConfigError, config_hash, load_config
from empathy_fmri.pipeline.study_config import check_study_config


@pytest.fixture(scope="module")
def raw_default() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def _set(config: dict, dotted: str, value) -> dict:
    config = copy.deepcopy(config)
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return config


_DELETE = object()

# (description, dotted key, new value, text the message must contain)
MALFORMED = [
    ("wrong type", "n_subjects", "ten", "'n_subjects'"),
    ("float for integer", "design.n_runs", 1.5, "'design.n_runs'"),
    ("below minimum", "noise.tsnr", -5, "'noise.tsnr'"),
    ("above maximum", "noise.ar1_rho", 1.2, "'noise.ar1_rho'"),
    ("negative motion", "noise.motion_mm", -0.1, "'noise.motion_mm'"),
    ("missing top-level key", "seed", _DELETE, "'seed' is missing"),
    ("missing nested key", "noise.tsnr", _DELETE, "'noise.tsnr' is missing"),
    ("unknown top-level key", "n_subject", 19, "'n_subject'"),
    ("unknown nested key (typo)", "noise.tsnrr", 60, "did you mean 'noise.tsnr'"),
    ("bad enum", "design.order", "alternating", "'design.order'"),
    ("bad HRF model", "analysis.hrf_model", "canonical", "'analysis.hrf_model'"),
    ("coordinate with two numbers", "analysis.rois.AI_L", [-32, 26], "'analysis.rois.AI_L'"),
    ("region centre with two numbers", "regions.centres.aMCC", [2, 24], "'regions.centres.aMCC'"),
    (
        "coupling outside [-1, 1]",
        "signal.rois.IFG_L.trait_coupling",
        1.5,
        "'signal.rois.IFG_L.trait_coupling'",
    ),
    (
        "score the simulation has not",
        "analysis.scores",
        ["willingness_to_harm", "empathy"],
        "'analysis.scores' lists ['empathy']",
    ),
    (
        "trial type in both conditions",
        "analysis.conditions",
        {"needle": ["pain", "video"], "swab": ["video"]},
        "['video'] are in both",
    ),
    ("condition without trial type", "analysis.conditions.swab", [], "'analysis.conditions.swab'"),
    (
        "unknown confound strategy",
        "analysis.confounds.strategy",
        ["motion", "aroma"],
        "'analysis.confounds.strategy",
    ),
    ("bad motion model", "analysis.confounds.motion", "six", "'analysis.confounds.motion'"),
    (
        "exclusion without a reason",
        "analysis.participants.exclude",
        {"sub-03": ""},
        "'analysis.participants.exclude.sub-03'",
    ),
    (
        "exclusion of a non-label",
        "analysis.participants.exclude",
        {"03": "moved"},
        "'analysis.participants.exclude",
    ),
    ("non-integer voxel size", "anatomy.voxel_size_mm", 2.5, "'anatomy.voxel_size_mm'"),
    (
        "signal region without a centre",
        "signal.rois.TPJ_L",
        {"mean_psc": 0.3, "sd_psc": 0.2, "trait_coupling": 0.0},
        "'signal.rois.TPJ_L'",
    ),
    (
        "region without an amplitude model",
        "regions.centres.TPJ_L",
        [-46, -61, 21],
        "'regions.centres.TPJ_L'",
    ),
    ("block shorter than a TR", "design.block_s", 1.0, "'design.block_s'"),
    ("task removed by the high-pass", "analysis.high_pass_hz", 0.05, "'analysis.high_pass_hz'"),
    (
        "physiological noise leaving no system noise",
        "noise.physio_share",
        0.6,
        "the noise shares add up to 1.1",
    ),
    (
        "a removed key names its replacement",
        "noise.physio_psc",
        0.8,
        "'noise.physio_psc' is no longer used: 'noise.physio_psc' (an SD in psc) was "
        "replaced by 'noise.physio_share'",
    ),
    ("ROI radius below a voxel", "analysis.roi_radius_mm", 4, "'analysis.roi_radius_mm'"),
    (
        "noise rougher than its global parts allow",
        "noise.fwhm_mm",
        2.0,
        "'noise.fwhm_mm' = 2.0 is too small",
    ),
    (
        "thermal share leaving no system noise",
        "noise.thermal_share",
        0.9,
        "the noise shares add up to 1.05",
    ),
    (
        "slow physiology leaving no system noise",
        "noise.slow_physio_share",
        0.9,
        "'noise.slow_physio_share' 0.9",
    ),
    ("removed drift key", "noise.drift_psc", 0.8, "replaced by 'noise.drift_share'"),
    (
        "lag one the noise mixture cannot reach",
        "noise.ar1_rho",
        0.7,
        "'noise.ar1_rho' = 0.7 cannot be reached at 'design.tr' = 2.0 s with these noise "
        "shares: the lag one can lie between",
    ),
    ("seed too large for the permutations", "seed", 2**40, "'seed'"),
    (
        "pilot true r outside -0.95..0.95",
        "power.pilot.true_r",
        [0.3, 1.0],
        "'power.pilot.true_r[1]'",
    ),
    (
        "pilot score reliability of zero",
        "power.pilot.score_reliability",
        0,
        "'power.pilot.score_reliability'",
    ),
    (
        "pilot score reliability as a word",
        "power.pilot.score_reliability",
        "counts",
        "'power.pilot.score_reliability'",
    ),
    ("too few subjects", "n_subjects", 3, "'n_subjects'"),
    ("ROI centre outside the brain", "analysis.rois.aMCC", [2, 24, 90], "'analysis.rois.aMCC'"),
    (
        "region centre outside the brain",
        "regions.centres.mPFC",
        [6, 90, 16],
        "'regions.centres.mPFC'",
    ),
]


def test_default_config_is_valid(default_config):
    assert default_config["n_subjects"] == 19
    for name in ("AI_L", "AI_R", "aMCC", "IFG_L", "IFG_R"):
        assert name in default_config["analysis"]["rois"]
        assert name in default_config["regions"]["centres"]
        assert name in default_config["signal"]["rois"]
    for key in (
        "tsnr",
        "ar1_rho",
        "fwhm_mm",
        "thermal_share",
        "physio_share",
        "slow_physio_share",
        "drift_share",
        "motion_mm",
    ):
        assert key in default_config["noise"]


def test_defaults_are_filled(raw_default):
    trimmed = _set(raw_default, "noise.thermal_share", _DELETE)
    assert check_study_config(trimmed)["noise"]["thermal_share"] == 0.4


@pytest.mark.parametrize(
    ("what", "key", "value", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_config_names_its_key(raw_default, what, key, value, expected):
    if key == "analysis.roi_radius_mm":
        bad = _set(_set(raw_default, "anatomy.voxel_size_mm", 6), key, value)
    else:
        bad = _set(raw_default, key, value)
    with pytest.raises(ConfigError) as error:
        check_study_config(bad)
    assert expected in str(error.value)


def test_config_must_be_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        check_study_config(["not", "a", "mapping"])


def test_load_config_reports_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_config_hash_tracks_content(raw_default):
    first = check_study_config(raw_default)
    assert config_hash(first) == config_hash(check_study_config(raw_default))
    assert config_hash(first) != config_hash(check_study_config(_set(raw_default, "seed", 1)))


#: One case per stage of the config check (schema, unknown key, cross-field,
#: anatomy, noise solution). test_malformed_config_names_its_key checks every
#: case's message; through Snakemake each stage is one code path (common.smk
#: catches the ConfigError), and each run costs about 8 s of CI.
SNAKEMAKE_CASES = [
    case
    for case in MALFORMED
    if case[0]
    in {
        "bad enum",
        "unknown nested key (typo)",
        "task removed by the high-pass",
        "ROI centre outside the brain",
        "a removed key names its replacement",
        "lag one the noise mixture cannot reach",
    }
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("what", "key", "value", "expected"), SNAKEMAKE_CASES, ids=[m[0] for m in SNAKEMAKE_CASES]
)
def test_snakemake_stops_before_any_job(tmp_path, raw_default, what, key, value, expected):
    """A bad config.yaml stops `snakemake -n` with one message naming the key."""
    if key == "analysis.roi_radius_mm":
        bad = _set(_set(raw_default, "anatomy.voxel_size_mm", 6), key, value)
    else:
        bad = _set(raw_default, key, value)
    workdir = copy_workflow(tmp_path)
    (workdir / "config.yaml").write_text(yaml.safe_dump(bad))
    result = run_snakemake(workdir, "-n", timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Config error:" in output
    assert expected in output
    assert "Traceback" not in output
    assert 'File "' not in output
    assert not (workdir / "results").exists()


def test_every_check_stage_is_run_through_snakemake():
    assert len(SNAKEMAKE_CASES) == 6  # a renamed case must not drop out silently


@pytest.mark.e2e
def test_dry_run_lists_the_default_study(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = run_snakemake(workdir, "-n", timeout=120)
    assert result.returncode == 0, result.stderr
    summary = result.stdout
    for rule, count in [
        ("simulate_subject", 19),
        ("first_level", 19),
        ("group_level", 1),
        ("roi_contrasts", 1),
        ("brain_behaviour", 1),
        ("behaviour_map", 3),
        ("figure_behaviour_map", 3),
    ]:
        assert any(line.split()[:2] == [rule, str(count)] for line in summary.splitlines()), rule


def test_statistical_preconditions_name_n_and_alpha():
    """Tests that cannot reach p < alpha at this N are refused before any job."""
    from empathy_fmri.config.checks import statistical_problems

    analysis = {"alpha": 0.05, "n_permutations": 1000, "n_permutations_stats": 5000}
    (message,) = statistical_problems(4, analysis)
    assert "4 subjects" in message and "0.0625" in message and "'analysis.alpha'" in message
    assert statistical_problems(5, analysis) == []  # 1/32 < 0.05
    (few,) = statistical_problems(19, {**analysis, "n_permutations_stats": 9})
    assert "'analysis.n_permutations_stats' = 9" in few and "0.1" in few


def test_nan_coordinate_names_its_own_key(raw_default):
    bad = copy.deepcopy(raw_default)
    bad["analysis"]["rois"]["AI_L"] = [-32, float("nan"), 6]
    with pytest.raises(ConfigError) as error:
        check_study_config(bad)
    message = str(error.value)
    assert "config key 'analysis.rois.AI_L[1]' is nan" in message
    assert "AI_R" not in message and "aMCC" not in message


def test_roi_with_too_few_grey_matter_voxels_is_refused(raw_default):
    """'analysis.min_roi_voxels' refuses an ROI that holds fewer grey-matter voxels.

    At 6 mm with a 10 mm radius (the tiny study) the ROIs hold 10-19 voxels.
    """
    small = copy.deepcopy(raw_default)
    small["anatomy"].update(voxel_size_mm=6)
    small["analysis"].update(roi_radius_mm=10, min_roi_voxels=5)
    small["power"] = {**small.get("power", {}), "replicates": {"voxel_size_mm": 6}}
    check_study_config(small)
    small["analysis"]["min_roi_voxels"] = 20
    with pytest.raises(
        ConfigError,
        match=r"'analysis.rois.IFG_L' .* holds \d+ grey-matter voxels"
        r".*at least 20 needed",
    ):
        check_study_config(small)


def test_repeated_yaml_key_is_refused_with_its_lines(tmp_path, repo):
    """PyYAML keeps the last of two equal keys silently; the config loader refuses it."""
    text = (repo / "config.yaml").read_text()
    assert "  tsnr: 70.0\n" in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("  tsnr: 70.0\n", "  tsnr: 70.0\n  tsnr: 50.0\n"))
    line = text[: text.index("  tsnr: 70.0\n")].count("\n") + 1
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert f"'{path}'" in message and "'tsnr' is given twice" in message
    assert f"lines {line} and {line + 1}" in message


@pytest.mark.e2e
def test_snakemake_refuses_a_repeated_key(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = workdir / "config.yaml"
    text = config.read_text().replace("\nn_subjects: 19\n", "\nn_subjects: 19\nn_subjects: 5\n")
    config.write_text(text)
    result = run_snakemake(workdir, "-n", timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Config error:" in output and "'n_subjects' is given twice" in output
    assert "Traceback" not in output


def test_statistical_warnings_foresee_empty_holm_and_missing_bootstrap():
    """Holm across m pairs needs p < alpha / m; the bootstrap needs resamples that vary.

    With 5 ROIs x 3 scores m = 15: 199 permutations reach p = 0.005, times 15
    is 0.075 > 0.05; 299 reach 1/300, times 15 = 0.05, still not below. A
    resample of n = 5 subjects is all one subject with probability 5^-4 =
    0.0016, so over 2000 resamples at least once with probability 0.96; at
    n = 8 it is 8^-7 per resample, 0.001 over 2000.
    """
    from empathy_fmri.config.checks import statistical_warnings

    analysis = {
        "rois": dict.fromkeys("abcde", [0, 0, 0]),
        "scores": ["x", "y", "z"],
        "alpha": 0.05,
        "n_permutations_stats": 5000,
        "n_bootstrap": 2000,
    }
    assert statistical_warnings(19, analysis) == []
    (holm,) = statistical_warnings(19, {**analysis, "n_permutations_stats": 199})
    assert "15 ROI x score pairs" in holm and "0.075" in holm and "at least 300" in holm
    assert len(statistical_warnings(19, {**analysis, "n_permutations_stats": 299})) == 1
    assert statistical_warnings(19, {**analysis, "n_permutations_stats": 300}) == []
    # at n = 5 there are only 5! = 120 pairings, so Holm cannot pass either
    holm5, bootstrap = statistical_warnings(5, analysis)
    assert "cannot go below 0.00833" in holm5
    assert "5 subjects" in bootstrap and "0.96" in bootstrap
    assert "'analysis.n_bootstrap'" in bootstrap
    assert statistical_warnings(8, analysis) == []


def test_rois_must_hold_enough_voxels_on_the_replicate_grid_too(raw_default):
    """The default IFG_L sphere holds 3 grey-matter voxels on a 6 mm grid (5 needed)."""
    coarse = _set(raw_default, "power.replicates.voxel_size_mm", 6)
    with pytest.raises(ConfigError) as error:
        check_study_config(coarse)
    message = str(error.value)
    assert "'power.replicates.voxel_size_mm' = 6" in message
    assert "'analysis.rois.IFG_L'" in message and "holds 3 grey-matter voxels" in message
    assert check_study_config(raw_default)["power"]["replicates"]["voxel_size_mm"] == 5
