"""Complete simulated studies, end to end, to check the fast Monte Carlo.

A replicate study runs the same library functions as the workflow, in
memory: simulate every subject (:func:`empathy_fmri.simulate.simulate_subject`),
fit the first level (:func:`empathy_fmri.firstlevel.fit_first_level`), the
group map with FDR and permutation FWE (:func:`empathy_fmri.group.fit_group`),
extract the a-priori ROI means (:func:`empathy_fmri.roi.extract_roi_means`)
and correlate them with the dilemma scores
(:func:`empathy_fmri.stats.brain_behaviour_table`). Replicates are run on the
coarse grid and sample size of ``power.replicates`` and differ only in their
seed. ``null`` replicates plant no needle-minus-swab effect at all, so every
voxel of their FWE map is a false positive.

:func:`compare_with_fast_mode` then checks that the replicates' distribution
of r agrees with the fast Monte Carlo of :mod:`empathy_fmri.power` calibrated
on the same replicates, and :func:`family_wise_error` counts the replicates
whose FWE map has any false-positive voxel.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from empathy_fmri.power import (
    MeasurementModel,
    finish_calibration,
    power_rng,
    signal_gain,
    simulate_correlations,
)

__all__ = [
    "ReplicateResult",
    "compare_with_fast_mode",
    "family_wise_error",
    "fast_mode_for_replicates",
    "pool_calibrations",
    "replicate_config",
    "run_replicate",
    "run_replicate_comparison",
    "run_replicate_job",
    "run_replicates",
]

logger = logging.getLogger(__name__)

#: Replicate kinds: with the configured effects, and with none at all.
KINDS = ("effect", "null")


@dataclass
class ReplicateResult:
    """Everything one replicate study yields.

    Attributes
    ----------
    correlations : pandas.DataFrame
        :func:`~empathy_fmri.stats.brain_behaviour_table` of the a-priori ROIs.
    calibration : pandas.DataFrame
        :func:`~empathy_fmri.power.calibrate_measurement` of its first level.
    amplitudes : pandas.DataFrame
        ``participant_id``, ``roi``, ``estimate`` and ``true`` amplitude (psc).
    maps : pandas.DataFrame
        :func:`~empathy_fmri.validation.map_accuracy` of the FDR and FWE maps.
    summary : dict
        Replicate index, kind, seed, sample size, voxels above each threshold
        and whether the FWE map had any false-positive voxel.
    """

    correlations: pd.DataFrame
    calibration: pd.DataFrame
    amplitudes: pd.DataFrame
    maps: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def replicate_config(config: Mapping[str, Any], index: int, null: bool = False) -> dict[str, Any]:
    """The configuration of one replicate study.

    Parameters
    ----------
    config : mapping
        The validated study configuration (with a ``power.replicates`` section).
    index : int
        Zero-based replicate index.
    null : bool
        Plant no needle-minus-swab effect (every ``mean_psc`` and ``sd_psc`` 0).

    Returns
    -------
    dict
        A validated copy with the replicate's seed (spawned from ``seed +
        power.seed_offset``, distinct for every index and kind), sample size,
        voxel size and FWE permutations.
    """
    from empathy_fmri.config import validate_config

    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    settings = config["power"]["replicates"]
    replicate = copy.deepcopy(dict(config))
    sequence = np.random.SeedSequence(
        config["seed"] + config["power"]["seed_offset"], spawn_key=(2, int(null), index)
    )
    replicate["seed"] = int(sequence.generate_state(1)[0] & 0x7FFFFFFF)
    replicate["n_subjects"] = settings["n_subjects"]
    replicate["anatomy"]["voxel_size_mm"] = settings["voxel_size_mm"]
    replicate["analysis"]["n_permutations"] = settings["n_permutations"]
    if null:
        for model in replicate["signal"]["rois"].values():
            model["mean_psc"] = 0.0
            model["sd_psc"] = 0.0
    return validate_config(replicate)


def _true_regions(config: Mapping[str, Any], space: Any) -> dict[str, np.ndarray]:
    return {
        name: mask
        for name, mask in space.roi_masks.items()
        if config["signal"]["rois"][name]["mean_psc"] != 0
        or config["signal"]["rois"][name]["sd_psc"] != 0
    }


def run_replicate(
    config: Mapping[str, Any], index: int, null: bool = False, space: Any = None
) -> ReplicateResult:
    """Run one complete simulated study in memory.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    index : int
        Zero-based replicate index.
    null : bool
        A study with no needle-minus-swab effect at all.
    space : SimulationSpace, optional
        :func:`~empathy_fmri.simulate.build_space` of the replicate grid, to
        reuse across replicates.

    Returns
    -------
    ReplicateResult
    """
    from empathy_fmri.anatomy import grey_matter_on
    from empathy_fmri.bids import bold_image
    from empathy_fmri.design import BlockDesign
    from empathy_fmri.firstlevel import analysis_mask, fit_first_level, glm_options
    from empathy_fmri.group import fit_group
    from empathy_fmri.population import draw_subject, subject_behaviour
    from empathy_fmri.power import calibrate_measurement
    from empathy_fmri.roi import extract_roi_means, roi_masks
    from empathy_fmri.simulate import build_space, simulate_subject
    from empathy_fmri.stats import brain_behaviour_table
    from empathy_fmri.validation import map_accuracy

    cfg = replicate_config(config, index, null)
    space = space or build_space(cfg)
    design = BlockDesign.from_config(cfg["design"])
    analysis = cfg["analysis"]
    anatomy = cfg["anatomy"]
    columns = list(analysis["confounds"])
    effects: dict[str, Any] = {}
    variances = []
    behaviour, truth_rows = [], []
    mask_img = None
    for subject_index in range(cfg["n_subjects"]):
        truth = draw_subject(cfg, subject_index)
        runs = simulate_subject(cfg, subject_index, truth, space)
        images = [bold_image(run.bold, space.mask, space.anatomy.affine, design.tr_s)
                  for run in runs]
        if mask_img is None:
            mask_img = analysis_mask(images[0])
        fit = fit_first_level(
            images,
            [run.events for run in runs],
            [run.confounds[columns].fillna(0.0) for run in runs] if columns else None,
            design.tr_s,
            **glm_options(analysis),
            mask_img=mask_img,
        )
        effects[truth.participant_id] = fit.maps["needleMinusSwab"]["effect"]
        variances.append(fit.maps["needleMinusSwab"]["variance"])
        behaviour.append(
            {"participant_id": truth.participant_id,
             **subject_behaviour(cfg, subject_index, truth)}
        )
        truth_rows += [
            {"participant_id": truth.participant_id, "roi": name, "true": value}
            for name, value in truth.needle_minus_swab_psc.items()
        ]
    group = fit_group(
        list(effects.values()), mask_img, alpha=analysis["alpha"],
        n_permutations=max(int(analysis["n_permutations"]), 1), random_state=cfg["seed"],
    )
    affine = group.z.affine
    grey = grey_matter_on(group.z, anatomy["grey_matter_threshold"])
    masks = roi_masks(anatomy["rois"], anatomy["roi_radius_mm"], affine, grey)
    roi_table = extract_roi_means(effects, masks, affine)
    roi_table.insert(2, "selection", "independent")
    phenotype = pd.DataFrame(behaviour).set_index("participant_id")
    correlations = brain_behaviour_table(
        roi_table, phenotype, analysis["scores"],
        n_permutations=analysis["n_permutations_stats"],
        n_bootstrap=analysis["n_bootstrap"],
        seed=cfg["seed"],
    )
    smoothing = analysis["smoothing_fwhm_mm"]
    calibration = calibrate_measurement(
        list(effects.values()), variances, masks, anatomy["rois"], affine,
        min_distance_mm=2 * anatomy["roi_radius_mm"] + 2 * smoothing + cfg["noise"]["fwhm_mm"],
    )
    amplitudes = roi_table.rename(columns={"needle_minus_swab": "estimate"}).merge(
        pd.DataFrame(truth_rows), on=["participant_id", "roi"]
    )[["participant_id", "roi", "estimate", "true"]]
    brain = np.asarray(mask_img.dataobj) > 0
    true_regions = _true_regions(cfg, space)
    margin = cfg.get("validation", {}).get("near_margin_mm", smoothing)
    maps = []
    for threshold, image in (("fdr", group.z_fdr), ("fwe", group.z_fwe)):
        table = map_accuracy(
            np.asarray(image.dataobj) > 0, true_regions, brain, float(anatomy["voxel_size_mm"]),
            margin,
        )
        table.insert(0, "threshold", threshold)
        maps.append(table)
    maps_table = pd.concat(maps, ignore_index=True)
    outside = maps_table[maps_table["region"] == "outside"].set_index("threshold")
    distant = maps_table[maps_table["region"] == "distant"].set_index("threshold")
    kind = KINDS[int(null)]
    summary = {
        "replicate": index,
        "kind": kind,
        "seed": cfg["seed"],
        "n_subjects": cfg["n_subjects"],
        "voxel_size_mm": anatomy["voxel_size_mm"],
        "n_permutations": int(analysis["n_permutations"]),
        "n_voxels_fdr": int((np.asarray(group.z_fdr.dataobj) > 0).sum()),
        "n_voxels_fwe": int((np.asarray(group.z_fwe.dataobj) > 0).sum()),
        "n_false_positive_fdr": int(outside.loc["fdr", "n_detected"]),
        "n_false_positive_fwe": int(outside.loc["fwe", "n_detected"]),
        "n_distant_false_positive_fwe": int(distant.loc["fwe", "n_detected"]),
        "family_wise_false_positive": bool(outside.loc["fwe", "n_detected"] > 0),
        "family_wise_distant_false_positive": bool(distant.loc["fwe", "n_detected"] > 0),
    }
    for table in (correlations, calibration, amplitudes, maps_table):
        table.insert(0, "kind", kind)
        table.insert(0, "replicate", index)
    logger.info(
        "replicate %s %d: %d subjects, %d FWE voxels (%d outside the true regions)",
        kind, index, cfg["n_subjects"], summary["n_voxels_fwe"], summary["n_false_positive_fwe"],
    )
    return ReplicateResult(correlations, calibration, amplitudes, maps_table, summary)


def _run_chunk(
    config: Mapping[str, Any], indices: Sequence[int], null: bool
) -> list[ReplicateResult]:
    """Run several replicates with one simulation space and single-threaded BLAS."""
    from contextlib import nullcontext

    from empathy_fmri.simulate import build_space

    try:
        from threadpoolctl import threadpool_limits

        limit: Any = threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limit = nullcontext()
    with limit:
        space = build_space(replicate_config(config, 0, null))
        return [run_replicate(config, index, null, space) for index in indices]


def run_replicates(
    config: Mapping[str, Any], n_replicates: int, null: bool = False, n_jobs: int = 1
) -> list[ReplicateResult]:
    """Run replicate studies 0 to ``n_replicates - 1``, optionally in parallel.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    n_replicates : int
        Replicate studies to run.
    null : bool
        Studies with no needle-minus-swab effect at all.
    n_jobs : int
        Worker processes (``spawn``ed; each runs a share of the replicates
        with single-threaded BLAS).

    Returns
    -------
    list of ReplicateResult
        In replicate order; the same whatever ``n_jobs``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if n_replicates < 1:
        raise ValueError(f"n_replicates must be at least 1, got {n_replicates}")
    indices = list(range(n_replicates))
    n_jobs = max(1, min(int(n_jobs), n_replicates))
    if n_jobs == 1:
        return _run_chunk(config, indices, null)
    chunks = [indices[k::n_jobs] for k in range(n_jobs)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_jobs, mp_context=context) as pool:
        parts = list(pool.map(_run_chunk, [dict(config)] * n_jobs, chunks, [null] * n_jobs))
    results = [result for part in parts for result in part]
    return sorted(results, key=lambda result: result.summary["replicate"])


def pool_calibrations(calibrations: pd.DataFrame) -> pd.DataFrame:
    """Pool the measurement calibrations of several replicate studies per ROI.

    Parameters
    ----------
    calibrations : pandas.DataFrame
        Rows of :func:`~empathy_fmri.power.calibrate_measurement` from many
        studies on the same grid.

    Returns
    -------
    pandas.DataFrame
        One row per ROI: variances averaged with the number of subjects (and
        null positions) as weights, derived columns recomputed.
    """
    rows = []
    for roi, group in calibrations.groupby("roi", sort=False):
        weight = group["n_subjects"].to_numpy(float)
        null_weight = weight * group["n_null_positions"].to_numpy(float)
        has_null = null_weight.sum() > 0
        rows.append(
            {
                "roi": roi,
                "n_voxels": int(group["n_voxels"].iloc[0]),
                "n_subjects": int(weight.sum()),
                "mean_voxel_variance": float(
                    np.average(group["mean_voxel_variance"], weights=weight)
                ),
                "n_null_positions": int(group["n_null_positions"].sum()),
                "null_mean_square": float(np.average(
                    group["null_mean_square"].fillna(0), weights=null_weight))
                if has_null else np.nan,
                "null_mean_voxel_variance": float(np.average(
                    group["null_mean_voxel_variance"].fillna(0), weights=null_weight))
                if has_null else np.nan,
            }
        )
    return finish_calibration(pd.DataFrame(rows))


def _quantile_se(sample: np.ndarray, q: float, n_a: int, n_b: int) -> float:
    """SE of the difference of two sample q-quantiles (asymptotic, density from a KDE)."""
    point = np.quantile(sample, q)
    density = float(stats.gaussian_kde(sample)(point)[0])
    return float(np.sqrt(q * (1 - q) * (1 / n_a + 1 / n_b)) / density)


def compare_with_fast_mode(
    replicate_r: pd.DataFrame,
    fast_r: Mapping[tuple[str, str], np.ndarray],
    quantiles: Sequence[float] = (0.25, 0.5, 0.75),
    family_alpha: float = 0.01,
) -> pd.DataFrame:
    """Compare the replicates' r with the fast Monte Carlo's, quantile by quantile.

    The difference of a sample quantile of the ``K`` replicates and of the
    ``M`` fast-mode studies has, asymptotically, the standard error
    ``sqrt(q (1 - q) (1/K + 1/M)) / f(x_q)`` (the quantile's variance for a
    density ``f``, e.g. Serfling 1980, 2.3.3), ``f`` estimated by a Gaussian
    KDE of the fast-mode sample; the mean's difference has ``sd * sqrt(1/K + 1/M)``.
    A difference is within tolerance when ``|z|`` is below the Bonferroni
    critical value for all comparisons at a family-wise ``family_alpha``.

    Parameters
    ----------
    replicate_r : pandas.DataFrame
        ``roi``, ``score``, ``r`` of every replicate study.
    fast_r : mapping of (roi, score) to numpy.ndarray
        Fast Monte Carlo r at the same design and measurement model.
    quantiles : sequence of float
        Quantiles compared.
    family_alpha : float
        Chance that a correct fast mode fails any comparison.

    Returns
    -------
    pandas.DataFrame
        One row per pair x statistic (``q0.25``, ..., ``mean``): ``replicates``,
        ``fast``, ``difference``, ``se``, ``z``, ``z_critical``,
        ``within_tolerance``, ``ks_p`` (two-sample Kolmogorov-Smirnov p of
        the pair), ``n_replicates`` and ``n_fast``.
    """
    rows = []
    for (roi, score), fast in fast_r.items():
        fast = fast[np.isfinite(fast)]
        values = replicate_r[(replicate_r["roi"] == roi) & (replicate_r["score"] == score)]
        values = values["r"].to_numpy(float)
        values = values[np.isfinite(values)]
        n_rep, n_fast = len(values), len(fast)
        if n_rep < 2:
            raise ValueError(f"pair {roi}-{score}: fewer than 2 replicate correlations")
        ks_p = float(stats.ks_2samp(values, fast).pvalue)
        for q in quantiles:
            rows.append({
                "roi": roi, "score": score, "statistic": f"q{q:g}",
                "replicates": float(np.quantile(values, q)),
                "fast": float(np.quantile(fast, q)),
                "se": _quantile_se(fast, q, n_rep, n_fast),
                "ks_p": ks_p, "n_replicates": n_rep, "n_fast": n_fast,
            })
        rows.append({
            "roi": roi, "score": score, "statistic": "mean",
            "replicates": float(values.mean()), "fast": float(fast.mean()),
            "se": float(fast.std(ddof=1) * np.sqrt(1 / n_rep + 1 / n_fast)),
            "ks_p": ks_p, "n_replicates": n_rep, "n_fast": n_fast,
        })
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("se"), "difference", table["replicates"] - table["fast"])
    table["z"] = table["difference"] / table["se"]
    table["z_critical"] = stats.norm.isf(family_alpha / (2 * len(table)))
    table["within_tolerance"] = table["z"].abs() <= table["z_critical"]
    return table


def family_wise_error(summaries: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Family-wise false-positive rate of the FWE map across replicate studies.

    Parameters
    ----------
    summaries : pandas.DataFrame
        :attr:`ReplicateResult.summary` of every replicate, one row each.
    alpha : float
        The nominal family-wise error rate.

    Returns
    -------
    pandas.DataFrame
        One row per kind: ``n_studies``, ``n_family_wise_false_positive``
        (studies with any FWE voxel outside the true regions), ``rate``, its
        Clopper-Pearson 95% interval, ``p_above_alpha`` (one-sided binomial
        p of so many or more if the rate were ``alpha``) and the same count
        for distant false positives (beyond the near margin).
    """
    rows = []
    for kind, group in summaries.groupby("kind", sort=False):
        n = len(group)
        k = int(group["family_wise_false_positive"].astype(bool).sum())
        distant = int(group["family_wise_distant_false_positive"].astype(bool).sum())
        interval = stats.binomtest(k, n, alpha).proportion_ci(0.95)
        rows.append({
            "kind": kind,
            "n_studies": n,
            "n_family_wise_false_positive": k,
            "rate": k / n,
            "ci_low": float(interval.low),
            "ci_high": float(interval.high),
            "p_above_alpha": float(stats.binom.sf(k - 1, n, alpha)),
            "n_distant_family_wise_false_positive": distant,
            "rate_distant": distant / n,
            "alpha": alpha,
        })
    return pd.DataFrame(rows)


def fast_mode_for_replicates(
    config: Mapping[str, Any], calibration: pd.DataFrame, n_studies: int
) -> tuple[dict[tuple[str, str], np.ndarray], pd.DataFrame]:
    """Fast Monte Carlo r at the replicates' design, calibrated on their first levels.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    calibration : pandas.DataFrame
        Calibrations of the effect replicates (pooled here).
    n_studies : int
        Fast-mode studies.

    Returns
    -------
    fast_r : dict of (roi, score) to numpy.ndarray
        Simulated r per pair.
    model : pandas.DataFrame
        The pooled calibration with the ``gain`` used.
    """
    cfg = replicate_config(config, 0)
    pooled = pool_calibrations(calibration)
    gain = signal_gain(cfg, cfg["analysis"]["smoothing_fwhm_mm"])
    pooled["gain"] = pooled["roi"].map(gain)
    model = MeasurementModel.from_table(pooled)
    rng = power_rng(config["seed"], config["power"]["seed_offset"], 3, cfg["n_subjects"])
    r = simulate_correlations(cfg, cfg["n_subjects"], n_studies, rng, model)
    rois = list(cfg["signal"]["rois"])
    scores = list(cfg["analysis"]["scores"])
    fast = {
        (roi, score): r[:, i, j] for i, roi in enumerate(rois) for j, score in enumerate(scores)
    }
    return fast, pooled


def run_replicate_job(
    config: Mapping[str, Any], index: int, kind: str, outputs: Mapping[str, str | Path]
) -> None:
    """Run :func:`run_replicate` and write its tables and summary.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    index : int
        Zero-based replicate index.
    kind : str
        ``effect`` or ``null``.
    outputs : mapping
        Paths for ``correlations``, ``calibration``, ``amplitudes``, ``maps``
        (TSV) and ``summary`` (JSON).
    """
    from empathy_fmri.atomic import write_json, write_tsv

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    result = run_replicate(config, index, null=kind == "null")
    write_tsv(outputs["correlations"], result.correlations)
    write_tsv(outputs["calibration"], result.calibration)
    write_tsv(outputs["amplitudes"], result.amplitudes)
    write_tsv(outputs["maps"], result.maps)
    write_json(outputs["summary"], result.summary)


def run_replicate_comparison(
    config: Mapping[str, Any],
    correlation_paths: Sequence[str | Path],
    calibration_paths: Sequence[str | Path],
    summary_paths: Sequence[str | Path],
    comparison_path: str | Path,
    fwe_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Compare the effect replicates with the fast mode, and count FWE false positives.

    Parameters
    ----------
    config : mapping
        The validated study configuration.
    correlation_paths, calibration_paths : sequence of path
        Tables of the effect replicates.
    summary_paths : sequence of path
        Summaries of every replicate (effect and null).
    comparison_path : path
        Output TSV of :func:`compare_with_fast_mode`.
    fwe_path : path
        Output TSV of :func:`family_wise_error`.
    figure_paths : sequence of path
        Output files of :func:`~empathy_fmri.plots_power.plot_replicate_comparison`.
    """
    from empathy_fmri.atomic import write_tsv
    from empathy_fmri.plots import save_figure
    from empathy_fmri.plots_power import plot_replicate_comparison

    correlations = pd.concat([pd.read_csv(p, sep="\t") for p in correlation_paths])
    calibration = pd.concat([pd.read_csv(p, sep="\t") for p in calibration_paths])
    summaries = pd.DataFrame([json.loads(Path(p).read_text()) for p in summary_paths])
    fast, _ = fast_mode_for_replicates(config, calibration, config["power"]["n_studies"])
    comparison = compare_with_fast_mode(correlations, fast)
    write_tsv(comparison_path, comparison)
    write_tsv(fwe_path, family_wise_error(summaries, config["analysis"]["alpha"]))
    logger.info(
        "%d of %d comparisons within tolerance",
        int(comparison["within_tolerance"].sum()), len(comparison),
    )
    save_figure(plot_replicate_comparison(correlations, fast, comparison), figure_paths)
