"""Grade one simulated study against its ground truth.

Three questions, one function each, plus a plain-language summary:

- :func:`amplitude_recovery`: how close are the per-subject ROI estimates of
  the needle-minus-swab amplitude to the true amplitudes (correlation, bias,
  RMSE, slope)?
- :func:`map_accuracy`: how much of the true activation does a thresholded
  group map find (sensitivity), and how many voxels, in how many clusters,
  does it declare active outside it (false positives)?
- :func:`correlation_recovery`: how far is each brain-behaviour r from the
  population r, and from the r expected after attenuation by measurement
  error (Spearman 1904: ``r_true * sqrt(rel_brain * rel_behaviour)``)?

Only the validation rules of the workflow read ``results/truth/``; this
module is where that truth meets the analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from empathy_fmri.power import MeasurementModel

__all__ = [
    "SCORE_LABELS",
    "amplitude_recovery",
    "correlation_recovery",
    "map_accuracy",
    "run_amplitude_validation",
    "run_correlation_validation",
    "run_map_validation",
    "run_summary",
    "summary_markdown",
]

logger = logging.getLogger(__name__)

#: How the summary names each behavioural score.
SCORE_LABELS = {
    "willingness_to_harm": "willingness to harm",
    "D": "deontological inclination (D)",
    "U": "utilitarian inclination (U)",
}


def amplitude_recovery(
    estimates: pd.DataFrame,
    truth: pd.DataFrame,
    measurement: MeasurementModel | None = None,
) -> pd.DataFrame:
    """Compare per-subject ROI estimates with the true amplitudes.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Long table with ``participant_id``, ``roi``, ``selection`` and
        ``needle_minus_swab`` (psc), as ``roi_contrasts.tsv``.
    truth : pandas.DataFrame
        ``participant_id`` and a ``true_<roi>`` column per ROI (psc), as
        ``participants_truth.tsv``.
    measurement : MeasurementModel, optional
        The calibrated measurement model, whose predicted gain and error SD
        are reported beside the observed ones.

    Returns
    -------
    pandas.DataFrame
        One row per ROI x selection: ``n``, ``mean_true``, ``mean_estimate``,
        ``bias`` (mean of estimate - truth), ``rmse``, ``r`` (Pearson, estimate
        vs. truth), ``slope`` and ``intercept`` (least squares of estimate on
        truth), ``residual_sd`` (SD of the estimate around that line),
        ``true_sd`` (between-subject SD of the true amplitudes in this sample)
        and, with ``measurement``, ``gain_model`` and ``error_sd_model``.
    """
    required = {"participant_id", "roi", "selection", "needle_minus_swab"}
    missing = required - set(estimates.columns)
    if missing:
        raise ValueError(f"estimates lacks the column(s) {sorted(missing)}")
    if "participant_id" not in truth.columns:
        raise ValueError("truth lacks the column 'participant_id'")
    truth = truth.set_index("participant_id")
    rows = []
    for (selection, roi), group in estimates.groupby(["selection", "roi"], sort=False):
        column = f"true_{roi}"
        if column not in truth.columns:
            raise ValueError(f"truth lacks the column '{column}' for ROI '{roi}'")
        group = group.set_index("participant_id")
        common = group.index.intersection(truth.index)
        estimate = group.loc[common, "needle_minus_swab"].to_numpy(float)
        true = truth.loc[common, column].to_numpy(float)
        error = estimate - true
        row: dict[str, Any] = {
            "roi": roi,
            "selection": selection,
            "n": len(common),
            "mean_true": float(true.mean()),
            "mean_estimate": float(estimate.mean()),
            "bias": float(error.mean()),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "r": np.nan,
            "slope": np.nan,
            "intercept": np.nan,
            "residual_sd": np.nan,
            "true_sd": float(true.std(ddof=1)) if len(true) > 1 else np.nan,
        }
        if len(common) >= 3 and np.ptp(true) > 0 and np.ptp(estimate) > 0:
            slope, intercept = np.polyfit(true, estimate, 1)
            residual = estimate - (slope * true + intercept)
            row.update(
                r=float(np.corrcoef(true, estimate)[0, 1]),
                slope=float(slope),
                intercept=float(intercept),
                residual_sd=float(np.sqrt(np.sum(residual**2) / (len(true) - 2))),
            )
        if measurement is not None:
            row["gain_model"] = measurement.gain.get(roi, np.nan)
            row["error_sd_model"] = measurement.error_sd_psc.get(roi, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _clusters(mask: np.ndarray) -> tuple[int, int]:
    """Number of 26-connected clusters and the size of the largest (voxels)."""
    if not mask.any():
        return 0, 0
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    return int(n), int(sizes.max())


def map_accuracy(
    significant: np.ndarray,
    true_regions: Mapping[str, np.ndarray],
    brain_mask: np.ndarray,
    voxel_size_mm: float,
    near_margin_mm: float,
) -> pd.DataFrame:
    """Sensitivity and false positives of a thresholded group map.

    Parameters
    ----------
    significant : numpy.ndarray
        Boolean 3D map of the voxels declared active.
    true_regions : mapping of str to numpy.ndarray
        Boolean 3D mask of each truly active region (may be empty: then every
        active voxel is a false positive).
    brain_mask : numpy.ndarray
        Boolean 3D mask of the analysed voxels.
    voxel_size_mm : float
        Isotropic voxel size, for distances and volumes.
    near_margin_mm : float
        Voxels outside the true regions but within this distance of one are
        "near" (true signal spread by smoothing); beyond it, "distant".

    Returns
    -------
    pandas.DataFrame
        One row per region: each true region and ``all_true`` (``measure`` =
        ``sensitivity``: ``share_detected`` is the share of its voxels
        declared active), ``outside`` (every analysed voxel outside the true
        regions) and ``distant`` (those beyond ``near_margin_mm``) (``measure`` =
        ``false_positive``: ``n_detected`` false-positive voxels, and
        ``share_detected`` their share of the region). Every row also has
        ``n_voxels``, ``n_clusters`` and ``largest_cluster_voxels`` of the
        active voxels in it, and ``detected_mm3``.
    """
    significant = np.asarray(significant, bool) & brain_mask
    union = np.zeros(brain_mask.shape, bool)
    for mask in true_regions.values():
        if mask.shape != brain_mask.shape:
            raise ValueError(
                f"true region of shape {mask.shape} does not match the map's {brain_mask.shape}"
            )
        union |= mask
    union &= brain_mask
    if union.any():
        distance = ndimage.distance_transform_edt(~union, sampling=voxel_size_mm)
    else:
        distance = np.full(brain_mask.shape, np.inf)
    regions = {name: mask & brain_mask for name, mask in true_regions.items()}
    regions["all_true"] = union
    measures = {name: "sensitivity" for name in regions}
    regions["outside"] = brain_mask & ~union
    regions["distant"] = brain_mask & (distance > near_margin_mm)
    measures.update(outside="false_positive", distant="false_positive")
    rows = []
    voxel_mm3 = voxel_size_mm**3
    for name, region in regions.items():
        detected = significant & region
        n_voxels = int(region.sum())
        n_detected = int(detected.sum())
        n_clusters, largest = _clusters(detected)
        rows.append(
            {
                "region": name,
                "measure": measures[name],
                "n_voxels": n_voxels,
                "n_detected": n_detected,
                "share_detected": n_detected / n_voxels if n_voxels else np.nan,
                "n_clusters": n_clusters,
                "largest_cluster_voxels": largest,
                "detected_mm3": n_detected * voxel_mm3,
            }
        )
    return pd.DataFrame(rows)


def correlation_recovery(
    stats_table: pd.DataFrame,
    population: pd.DataFrame,
    power: pd.DataFrame,
    alpha: float,
) -> pd.DataFrame:
    """Compare each brain-behaviour r with the population and attenuated r.

    Parameters
    ----------
    stats_table : pandas.DataFrame
        ``brain_behaviour.tsv``: ``roi``, ``selection``, ``score``, ``n``,
        ``r``, ``ci_low``, ``ci_high``, ``p``, ``p_corrected``.
    population : pandas.DataFrame
        ``population_correlations.tsv`` of the truth: ``roi``, ``score``,
        ``r`` (true amplitude vs. true score), ``r_measured_score``.
    power : pandas.DataFrame
        ``power.tsv`` rows at this study's sample size: ``roi``, ``score``,
        ``reliability_brain``, ``reliability_behaviour``, ``r_expected``,
        ``power``.
    alpha : float
        Significance level for the ``significant`` columns.

    Returns
    -------
    pandas.DataFrame
        The statistics columns plus ``r_population``,
        ``r_population_measured_score``, ``reliability_brain``,
        ``reliability_behaviour``, ``r_attenuated`` (Spearman:
        ``r_population * sqrt(reliability_brain * reliability_behaviour)``),
        ``r_expected`` (the fast Monte Carlo's direct value),
        ``power`` (share of studies of this size with p < alpha),
        ``error_vs_population`` and ``error_vs_attenuated`` (r minus each),
        ``ci_covers_population``, ``ci_covers_attenuated``, ``significant``
        and ``significant_corrected``.
    """
    for name, table, columns in (
        ("stats_table", stats_table, {"roi", "selection", "score", "r", "ci_low", "ci_high", "p"}),
        ("population", population, {"roi", "score", "r", "r_measured_score"}),
        ("power", power, {"roi", "score", "reliability_brain", "reliability_behaviour",
                          "r_expected", "power"}),
    ):
        missing = columns - set(table.columns)
        if missing:
            raise ValueError(f"{name} lacks the column(s) {sorted(missing)}")
    pop = population[["roi", "score", "r", "r_measured_score"]].rename(
        columns={"r": "r_population", "r_measured_score": "r_population_measured_score"}
    )
    fast = power[["roi", "score", "reliability_brain", "reliability_behaviour",
                  "r_expected", "power"]]
    table = stats_table.merge(pop, on=["roi", "score"], how="left").merge(
        fast, on=["roi", "score"], how="left"
    )
    table["r_attenuated"] = table["r_population"] * np.sqrt(
        table["reliability_brain"] * table["reliability_behaviour"]
    )
    table["error_vs_population"] = table["r"] - table["r_population"]
    table["error_vs_attenuated"] = table["r"] - table["r_attenuated"]
    table["ci_covers_population"] = (table["ci_low"] <= table["r_population"]) & (
        table["r_population"] <= table["ci_high"]
    )
    table["ci_covers_attenuated"] = (table["ci_low"] <= table["r_attenuated"]) & (
        table["r_attenuated"] <= table["ci_high"]
    )
    table["significant"] = table["p"] < alpha
    if "p_corrected" in table.columns:
        table["significant_corrected"] = table["p_corrected"] < alpha
    return table


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) < 0.5 * 10.0**-digits:
        value = 0.0
    return f"{value:.{digits}f}".replace("-", "\u2212")


def _count(n: float, noun: str) -> str:
    n = int(n)
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _percent(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.0f}%"


def summary_markdown(
    amplitudes: pd.DataFrame,
    maps: pd.DataFrame,
    correlations: pd.DataFrame,
    n_subjects: int,
    alpha: float,
    near_margin_mm: float,
) -> str:
    """Write the plain-language summary of a study's validation.

    Parameters
    ----------
    amplitudes : pandas.DataFrame
        From :func:`amplitude_recovery`.
    maps : pandas.DataFrame
        From :func:`map_accuracy`, with a ``threshold`` column (``fdr``, ``fwe``).
    correlations : pandas.DataFrame
        From :func:`correlation_recovery`.
    n_subjects : int
        Participants in the study.
    alpha : float
        Significance level.
    near_margin_mm : float
        Margin used for distant false positives.

    Returns
    -------
    str
        Markdown text.
    """
    lines = [
        "# How right was this study?",
        "",
        f"This simulated study had {n_subjects} participants. Because the data were "
        "simulated, every estimate below is compared with the truth that generated it.",
        "",
        "## Brain-behaviour correlations (a-priori ROIs)",
        "",
    ]
    independent = correlations[correlations["selection"] == "independent"]
    coupled = independent[independent["r_population"].abs() >= 0.01]
    for _, group in coupled.groupby("score", sort=False):
        row = group.loc[group["r_population"].abs().round(2).idxmax()]
        label = SCORE_LABELS.get(row.score, row.score)
        significance = "significant" if row.p < alpha else "not significant"
        lines.append(
            f"- The {row.roi}\u2013{label} correlation was estimated at "
            f"r = {_fmt(row.r)} [{_fmt(row.ci_low)}, {_fmt(row.ci_high)}] "
            f"(p = {_fmt(row.p, 3)}, {significance} at {alpha}); the population value "
            f"was {_fmt(row.r_population)}, or {_fmt(row.r_attenuated)} once measurement "
            f"error attenuates it (reliability {_fmt(row.reliability_brain)} for the ROI, "
            f"{_fmt(row.reliability_behaviour)} for the score); a study of this size "
            f"detects it {_percent(row.power)} of the time (uncorrected p < {alpha})."
        )
    nulls = independent[independent["r_population"].abs() < 0.01]
    if len(nulls):
        n_false = int((nulls["p"] < alpha).sum())
        lines.append(
            f"- {len(nulls)} ROI\u2013score pairs have no correlation in the population "
            f"(e.g. {SCORE_LABELS.get(nulls['score'].iloc[0], nulls['score'].iloc[0])}); "
            f"{n_false} of them came out significant here (false positives; each has a "
            f"{_percent(alpha)} chance)."
        )
    circular = correlations[correlations["selection"] == "circular"]
    if len(circular) and len(independent):
        lines.append(
            f"- With circular ROIs (centred on the group peak, 'double dipping') the mean "
            f"|r| was {_fmt(circular['r'].abs().mean())}, against "
            f"{_fmt(independent['r'].abs().mean())} with the a-priori ROIs."
        )
    covered = independent["ci_covers_population"].mean()
    lines += [
        f"- The 95% confidence interval contained the population value for "
        f"{_percent(covered)} of the a-priori ROI\u2013score pairs.",
        "",
        "| ROI | score | r [95% CI] | p | population r | attenuated r | power |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in independent.itertuples():
        lines.append(
            f"| {row.roi} | {row.score} | {_fmt(row.r)} [{_fmt(row.ci_low)}, "
            f"{_fmt(row.ci_high)}] | {_fmt(row.p, 3)} | {_fmt(row.r_population)} | "
            f"{_fmt(row.r_attenuated)} | {_percent(row.power)} |"
        )
    lines += ["", "## ROI amplitudes", ""]
    for row in amplitudes[amplitudes["selection"] == "independent"].itertuples():
        gain = getattr(row, "gain_model", np.nan)
        lines.append(
            f"- {row.roi}: the estimates correlated r = {_fmt(row.r)} with the true "
            f"amplitudes, were off by {_fmt(row.bias)} psc on average (RMSE "
            f"{_fmt(row.rmse)} psc), and recovered {_percent(row.slope)} of differences "
            f"between people (slope; smoothing alone predicts {_percent(gain)})."
        )
    lines += ["", "## Group maps", ""]
    for threshold, group in maps.groupby("threshold", sort=False):
        indexed = group.set_index("region")
        true = indexed.loc["all_true"]
        outside = indexed.loc["outside"]
        distant = indexed.loc["distant"]
        lines.append(
            f"- {threshold.upper()} at {alpha}: {_percent(true.share_detected)} of the "
            f"{int(true.n_voxels)} truly active voxels were detected; "
            f"{_count(outside.n_detected, 'voxel')} outside the true regions were declared "
            f"active ({_count(outside.n_clusters, 'cluster')}, the largest "
            f"{_count(outside.largest_cluster_voxels, 'voxel')}), {int(distant.n_detected)} of "
            f"them more than {near_margin_mm:g} mm away."
        )
    lines += [
        "",
        "Power is from the fast Monte Carlo of results/power/ (analytic t-test p of "
        "Pearson's r, measurement error calibrated from this run's first-level variances).",
        "",
    ]
    return "\n".join(lines)


def run_amplitude_validation(
    roi_path: str | Path,
    truth_path: str | Path,
    measurement_path: str | Path,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Read the ROI estimates and the truth, run :func:`amplitude_recovery`, write table and figure.

    Parameters
    ----------
    roi_path : path
        ``roi_contrasts.tsv``.
    truth_path : path
        ``participants_truth.tsv``.
    measurement_path : path
        ``measurement_model.tsv``.
    table_path : path
        Output TSV.
    figure_paths : sequence of path
        Output figure files.
    """
    from empathy_fmri.atomic import write_tsv
    from empathy_fmri.plots import save_figure
    from empathy_fmri.plots_recovery import plot_amplitude_recovery

    estimates = pd.read_csv(roi_path, sep="\t")
    truth = pd.read_csv(truth_path, sep="\t")
    measurement = MeasurementModel.from_table(pd.read_csv(measurement_path, sep="\t"))
    table = amplitude_recovery(estimates, truth, measurement)
    write_tsv(table_path, table)
    save_figure(plot_amplitude_recovery(estimates, truth, table), figure_paths)


def run_map_validation(
    thresholded_paths: Mapping[str, str | Path],
    roi_mask_paths: Mapping[str, str | Path],
    mean_map_path: str | Path,
    near_margin_mm: float,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Grade the thresholded group maps against the true activation; write table and figure.

    Parameters
    ----------
    thresholded_paths : mapping of str to path
        Threshold name (``fdr``, ``fwe``) to a z map that is zero below threshold.
    roi_mask_paths : mapping of str to path
        ROI name to its true mask in ``results/truth``.
    mean_map_path : path
        True mean needle-minus-swab map; a voxel is truly active where it is
        non-zero.
    near_margin_mm : float
        See :func:`map_accuracy`.
    table_path : path
        Output TSV (the rows of :func:`map_accuracy` per threshold).
    figure_paths : sequence of path
        Output figure files.
    """
    import nibabel as nib

    from empathy_fmri.atomic import write_tsv
    from empathy_fmri.firstlevel import analysis_mask
    from empathy_fmri.plots import save_figure
    from empathy_fmri.plots_recovery import plot_map_accuracy

    mean_map = nib.load(mean_map_path)
    active = np.asarray(mean_map.dataobj) != 0
    true_regions = {
        name: (np.asarray(nib.load(path).dataobj) > 0) & active
        for name, path in roi_mask_paths.items()
    }
    voxel = float(abs(mean_map.affine[0, 0]))
    significant = {}
    tables = []
    brain = None
    for threshold, path in thresholded_paths.items():
        image = nib.load(path)
        if brain is None:
            brain = np.asarray(analysis_mask(image).dataobj) > 0
        data = np.asarray(image.dataobj)
        if data.shape != active.shape:
            raise ValueError(
                f"map '{path}' has shape {data.shape}, the truth {active.shape}: not the same grid"
            )
        significant[threshold] = data > 0
        table = map_accuracy(significant[threshold], true_regions, brain, voxel, near_margin_mm)
        table.insert(0, "threshold", threshold)
        tables.append(table)
        logger.info(
            "%s: %d voxels significant", threshold, int(significant[threshold].sum())
        )
    table = pd.concat(tables, ignore_index=True)
    write_tsv(table_path, table)
    union = np.any(np.stack(list(true_regions.values())), axis=0)
    figure = plot_map_accuracy(significant, union, brain, mean_map.affine, near_margin_mm, table)
    save_figure(figure, figure_paths)


def run_correlation_validation(
    stats_path: str | Path,
    population_path: str | Path,
    power_path: str | Path,
    n_subjects: int,
    alpha: float,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Grade the brain-behaviour correlations; write table and figure.

    Parameters
    ----------
    stats_path : path
        ``brain_behaviour.tsv``.
    population_path : path
        ``population_correlations.tsv`` of the truth.
    power_path : path
        ``power.tsv``; its rows at ``n_subjects`` are used.
    n_subjects : int
        The study's sample size.
    alpha : float
        Significance level.
    table_path : path
        Output TSV.
    figure_paths : sequence of path
        Output figure files.
    """
    from empathy_fmri.atomic import write_tsv
    from empathy_fmri.plots import save_figure
    from empathy_fmri.plots_recovery import plot_correlation_recovery

    power = pd.read_csv(power_path, sep="\t")
    at_n = power[power["sample_size"] == n_subjects]
    if at_n.empty:
        # reliabilities and expected r do not depend on N; power at this N is unknown
        logger.warning(
            "'%s' has no rows at the study's sample size %d (it has %s); power left empty",
            power_path, n_subjects, sorted(power["sample_size"].unique()),
        )
        at_n = power[power["sample_size"] == power["sample_size"].min()].assign(power=np.nan)
    table = correlation_recovery(
        pd.read_csv(stats_path, sep="\t"), pd.read_csv(population_path, sep="\t"), at_n, alpha
    )
    write_tsv(table_path, table)
    save_figure(plot_correlation_recovery(table), figure_paths)


def run_summary(
    amplitude_path: str | Path,
    map_path: str | Path,
    correlation_path: str | Path,
    n_subjects: int,
    alpha: float,
    near_margin_mm: float,
    summary_path: str | Path,
) -> None:
    """Write :func:`summary_markdown` from the three validation tables.

    Parameters
    ----------
    amplitude_path, map_path, correlation_path : path
        Tables of :func:`run_amplitude_validation`, :func:`run_map_validation`
        and :func:`run_correlation_validation`.
    n_subjects : int
        The study's sample size.
    alpha : float
        Significance level.
    near_margin_mm : float
        Margin of distant false positives.
    summary_path : path
        Output markdown file.
    """
    from empathy_fmri.atomic import write_text

    text = summary_markdown(
        pd.read_csv(amplitude_path, sep="\t"),
        pd.read_csv(map_path, sep="\t"),
        pd.read_csv(correlation_path, sep="\t"),
        n_subjects,
        alpha,
        near_margin_mm,
    )
    write_text(summary_path, text)
