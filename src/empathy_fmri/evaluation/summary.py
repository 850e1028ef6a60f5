"""A plain-language summary of how one simulated study did against its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.conclusion import INFLATED_RATIO, NULL_R
from empathy_fmri.evaluation.recovery import SCORE_LABELS
from empathy_fmri.evaluation.wording import number, percent


def _count(n: float, noun: str) -> str:
    n = int(n)
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: What each ROI selection is and what it does to a correlation, in words.
SELECTION_SENTENCES = {
    "independent": "a-priori spheres, chosen before seeing the data: the honest estimate",
    "group_peak": (
        "spheres on the group z peak: circular for the mean effect, but the group mean is "
        "nearly independent of how subjects differ around it, so r is nearly unbiased"
    ),
    "behaviour_peak": (
        "spheres on the voxel whose effect correlates most (|r|) with that score, on the "
        "same subjects ('double dipping', Vul et al. 2009): r is inflated, even on a null"
    ),
    "cross_validated": (
        "the same choice cross-fitted: the subjects split in two halves, each half's "
        "sphere chosen on the other half only, every subject's value read in the sphere "
        "its own half did not choose, one r across all: honest (on a simulated null "
        "p < .05 in 5.8% of studies, against 20% for leave-one-subject-out)"
    ),
}


def _selection_lines(correlations: pd.DataFrame, alpha: float) -> list[str]:
    """One line per ROI selection: what it is, its mean |r| and its share significant (Holm)."""
    lines = []
    for selection, sentence in SELECTION_SENTENCES.items():
        rows = correlations[correlations["selection"] == selection]
        if rows.empty:
            continue
        inflation = (
            rows["inflation"]
            if "inflation" in rows
            else rows["r"].abs() - rows["r_attenuated"].abs()
        )
        lines.append(
            f"- {selection} ROIs ({sentence}): mean |r| {number(rows['r'].abs().mean())} over "
            f"{len(rows)} ROI\u2013score pairs, {percent(_holm_significant(rows, alpha).mean())} "
            f"significant after Holm's correction, mean inflation (|r| minus the attenuated "
            f"population |r|) {number(inflation.mean())}."
        )
    return lines


def _holm_significant(rows: pd.DataFrame, alpha: float) -> pd.Series:
    """Significant by the analysis's standard: Holm-corrected p below alpha."""
    if "p_corrected" not in rows:
        raise ValueError("the correlation table lacks 'p_corrected' (the Holm p)")
    return rows["p_corrected"].astype(float) < alpha


def _grade(row, alpha: float) -> str:
    """Wrong sign (type S) or inflated (type M) for a result significant after Holm."""
    if not row.p_corrected < alpha or abs(row.r_population) < NULL_R:
        return ""
    if row.r * row.r_population < 0:
        return " \u2014 the wrong sign (type S error)"
    ratio = abs(row.r) / abs(row.r_population)
    if ratio >= INFLATED_RATIO:
        return f" \u2014 inflated (type M error: {ratio:.1f} times the population value)"
    return ""


def summary_markdown(
    amplitudes: pd.DataFrame,
    maps: pd.DataFrame,
    correlations: pd.DataFrame,
    n_subjects: int,
    alpha: float,
    near_margin_mm: float,
    noise: pd.DataFrame | None = None,
    bottom_line: str | None = None,
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
        Significance level, applied to the Holm-corrected p (``p_corrected``).
    near_margin_mm : float
        Margin used for distant false positives.
    noise : pandas.DataFrame, optional
        ``noise_components.tsv`` (what the first level removes of each noise
        component); its mean rows (``participant_id`` ``all``) are summarised.
    bottom_line : str, optional
        The run's conclusion (``results/conclusion.md``, from
        :func:`~empathy_fmri.evaluation.conclusion.bottom_line_text`), shown
        first under "Bottom line".

    Returns
    -------
    str
        Markdown text.
    """
    lines = [
        "# How right was this study?",
        "",
        f"This simulated study had {n_subjects} participants. Because the data were "
        "simulated, every estimate below is compared with the truth that generated it. "
        "One significance standard is used throughout: a correlation is significant when "
        f"its Holm-corrected p (across the ROI x score tests of its selection, as the "
        f"analysis reports it) is below {alpha}.",
        "",
    ]
    if bottom_line:
        lines += ["## Bottom line", "", bottom_line.strip(), ""]
    lines += ["## Brain-behaviour correlations (a-priori ROIs)", ""]
    independent = correlations[correlations["selection"] == "independent"]
    coupled = independent[independent["r_population"].abs() >= NULL_R]
    for _, group in coupled.groupby("score", sort=False):
        row = group.loc[group["r_population"].abs().round(2).idxmax()]
        label = SCORE_LABELS.get(row.score, row.score)
        if row.p_corrected < alpha:
            significance = "significant after Holm's correction"
        else:
            significance = (
                f"not significant after Holm's correction; uncorrected p = {number(row.p, 3)}"
            )
        power_holm = getattr(row, "power_holm", float("nan"))
        detects = (
            f"{percent(power_holm)} of the time after Holm's correction "
            f"({percent(row.power)} uncorrected)"
            if np.isfinite(power_holm)
            else f"{percent(row.power)} of the time (uncorrected p < {alpha})"
        )
        lines.append(
            f"- The {row.roi}\u2013{label} correlation was estimated at "
            f"r = {number(row.r)} [{number(row.ci_low)}, {number(row.ci_high)}] "
            f"(p(Holm) = {number(row.p_corrected, 3)}, {significance}){_grade(row, alpha)}; "
            f"the population value was {number(row.r_population)}, or "
            f"{number(row.r_attenuated)} once measurement error attenuates it (reliability "
            f"{number(row.reliability_brain)} for the ROI, {number(row.reliability_behaviour)} "
            f"for the score); a study of this size detects it {detects}."
        )
    nulls = independent[independent["r_population"].abs() < NULL_R]
    if len(nulls):
        n_false = int(_holm_significant(nulls, alpha).sum())
        n_uncorrected = int((nulls["p"] < alpha).sum())
        lines.append(
            f"- {len(nulls)} ROI\u2013score pairs have no correlation in the population "
            f"(e.g. {SCORE_LABELS.get(nulls['score'].iloc[0], nulls['score'].iloc[0])}); "
            f"{n_false} of them {'was' if n_false == 1 else 'were'} significant after "
            f"Holm's correction (false positives); {n_uncorrected} had an uncorrected "
            f"p below {alpha}."
        )
    lines += _selection_lines(correlations, alpha)
    covered = independent["ci_covers_population"].mean()
    power_column = "power_holm" if "power_holm" in independent else "power"
    power_label = "power (Holm)" if power_column == "power_holm" else "power (uncorrected)"
    lines += [
        f"- The 95% confidence interval contained the population value for "
        f"{percent(covered)} of the a-priori ROI\u2013score pairs.",
        "",
        f"| ROI | score | r [95% CI] | p(Holm) | p uncorrected | population r | "
        f"attenuated r | {power_label} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in independent.itertuples():
        lines.append(
            f"| {row.roi} | {row.score} | {number(row.r)} [{number(row.ci_low)}, "
            f"{number(row.ci_high)}] | {number(row.p_corrected, 3)} | {number(row.p, 3)} | "
            f"{number(row.r_population)} | {number(row.r_attenuated)} | "
            f"{percent(getattr(row, power_column))} |"
        )
    lines += ["", "## ROI amplitudes", ""]
    for row in amplitudes[amplitudes["selection"] == "independent"].itertuples():
        gain = getattr(row, "gain_model", np.nan)
        lines.append(
            f"- {row.roi}: the estimates correlated r = {number(row.r)} with the true "
            f"amplitudes, were off by {number(row.bias)} psc on average (RMSE "
            f"{number(row.rmse)} psc), and recovered {percent(row.slope)} of differences "
            f"between people (slope; smoothing alone predicts {percent(gain)})."
        )
    lines += ["", "## Group maps", ""]
    for threshold, group in maps.groupby("threshold", sort=False):
        indexed = group.set_index("region")
        true = indexed.loc["all_true"]
        outside = indexed.loc["outside"]
        distant = indexed.loc["distant"]
        lines.append(
            f"- {threshold.upper()} at {alpha}: {percent(true.share_detected)} of the "
            f"{int(true.n_voxels)} truly active voxels were detected; "
            f"{_count(outside.n_detected, 'voxel')} outside the true regions were declared "
            f"active ({_count(outside.n_clusters, 'cluster')}, the largest "
            f"{_count(outside.largest_cluster_voxels, 'voxel')}), {int(distant.n_detected)} of "
            f"them more than {near_margin_mm:g} mm away."
        )
    if noise is not None:
        lines += ["", "## Noise the analysis had to live with", ""] + _noise_lines(noise)
    lines += [
        "",
        "Power is from the fast Monte Carlo of results/power/ (analytic t-test p of "
        "Pearson's r, Holm-corrected across each simulated study's ROI x score tests as the "
        "analysis corrects them; measurement error calibrated from this run's first level).",
        "",
    ]
    return "\n".join(lines)


def _noise_lines(noise: pd.DataFrame) -> list[str]:
    """Sentences on what the first level left of each noise component."""
    mean = noise[noise["participant_id"].astype(str) == "all"].set_index("component")
    parts = [
        f"{name} {percent(row.share_remaining)}"
        for name, row in mean.iterrows()
        if name != "all noise"
    ]
    lines = [
        f"- The first-level model left {percent(mean.loc['all noise', 'share_remaining'])} "
        f"of the simulated noise variance in grey matter (of each component: "
        f"{', '.join(parts)}); the rest it explained with its drift, task and "
        "motion regressors.",
    ]
    if "head motion" in mean.index:
        motion = mean.loc["head motion"]
        lines.append(
            f"- Head motion: {percent(motion.share_remaining)} of its variance survived "
            f"the six realignment regressors ({percent(motion.share_of_remaining_noise)} "
            "of the noise left). Averaged over the simulated runs it put a spurious "
            f"needle-minus-swab effect of {number(motion.spurious_effect_edge_psc, 3)} psc "
            f"into the brain's edge and {number(motion.spurious_effect_interior_psc, 3)} psc "
            "inside (mean absolute value; motion that is not locked to the videos "
            "averages towards 0 over runs, a flinch during needle videos does not)."
        )
    return lines
