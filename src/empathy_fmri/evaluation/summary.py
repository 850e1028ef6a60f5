"""A plain-language summary of how one simulated study did against its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.recovery import SCORE_LABELS


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
    """One line per ROI selection: what it is, its mean |r| and its share of p < alpha."""
    lines = []
    for selection, sentence in SELECTION_SENTENCES.items():
        rows = correlations[correlations["selection"] == selection]
        if rows.empty:
            continue
        inflation = (rows["inflation"] if "inflation" in rows
                     else rows["r"].abs() - rows["r_attenuated"].abs())
        lines.append(
            f"- {selection} ROIs ({sentence}): mean |r| {_fmt(rows['r'].abs().mean())} over "
            f"{len(rows)} ROI\u2013score pairs, {_percent((rows['p'] < alpha).mean())} with "
            f"p < {alpha}, mean inflation (|r| minus the attenuated population |r|) "
            f"{_fmt(inflation.mean())}."
        )
    return lines


def summary_markdown(
    amplitudes: pd.DataFrame,
    maps: pd.DataFrame,
    correlations: pd.DataFrame,
    n_subjects: int,
    alpha: float,
    near_margin_mm: float,
    noise: pd.DataFrame | None = None,
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
    noise : pandas.DataFrame, optional
        ``noise_components.tsv`` (what the first level removes of each noise
        component); its mean rows (``participant_id`` ``all``) are summarised.

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
        corrected = getattr(row, "p_corrected", float("nan"))
        if row.p >= alpha:
            significance = f"not significant at {alpha}"
        elif corrected < alpha:
            significance = f"significant at {alpha}, also after Holm's correction"
        else:
            significance = (f"significant at {alpha} uncorrected, not after Holm's correction "
                            f"(p = {_fmt(corrected, 3)})")
        wrong_sign = (
            " \u2014 the opposite sign to the population value"
            if row.p < alpha and row.r * row.r_population < 0 else ""
        )
        power_holm = getattr(row, "power_holm", float("nan"))
        holm = (f", {_percent(power_holm)} with the Holm correction the analysis applies"
                if np.isfinite(power_holm) else "")
        lines.append(
            f"- The {row.roi}\u2013{label} correlation was estimated at "
            f"r = {_fmt(row.r)} [{_fmt(row.ci_low)}, {_fmt(row.ci_high)}] "
            f"(p = {_fmt(row.p, 3)}, {significance}){wrong_sign}; the population value "
            f"was {_fmt(row.r_population)}, or {_fmt(row.r_attenuated)} once measurement "
            f"error attenuates it (reliability {_fmt(row.reliability_brain)} for the ROI, "
            f"{_fmt(row.reliability_behaviour)} for the score); a study of this size "
            f"detects it {_percent(row.power)} of the time (uncorrected p < {alpha}){holm}."
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
    lines += _selection_lines(correlations, alpha)
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
    if noise is not None:
        lines += ["", "## Noise the analysis had to live with", ""] + _noise_lines(noise)
    lines += [
        "",
        "Power is from the fast Monte Carlo of results/power/ (analytic t-test p of "
        "Pearson's r, measurement error calibrated from this run's first-level variances).",
        "",
    ]
    return "\n".join(lines)


def _noise_lines(noise: pd.DataFrame) -> list[str]:
    """Sentences on what the first level left of each noise component."""
    mean = noise[noise["participant_id"].astype(str) == "all"].set_index("component")
    parts = [
        f"{name} {_percent(row.share_remaining)}"
        for name, row in mean.iterrows() if name != "all noise"
    ]
    lines = [
        f"- The first-level model left {_percent(mean.loc['all noise', 'share_remaining'])} "
        f"of the simulated noise variance in grey matter (of each component: "
        f"{', '.join(parts)}); the rest it explained with its drift, task and "
        "motion regressors.",
    ]
    if "head motion" in mean.index:
        motion = mean.loc["head motion"]
        lines.append(
            f"- Head motion: {_percent(motion.share_remaining)} of its variance survived "
            f"the six realignment regressors ({_percent(motion.share_of_remaining_noise)} "
            "of the noise left). Averaged over the simulated runs it put a spurious "
            f"needle-minus-swab effect of {_fmt(motion.spurious_effect_edge_psc, 3)} psc "
            f"into the brain's edge and {_fmt(motion.spurious_effect_interior_psc, 3)} psc "
            "inside (mean absolute value; motion that is not locked to the videos "
            "averages towards 0 over runs, a flinch during needle videos does not)."
        )
    return lines
