"""Figures of the ROI effects and of the brain-behaviour correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.analysis.summaries import regression_band, roi_effect_summary
from empathy_fmri.plotting.style import (
    SELECTION_COLOURS,
    SELECTION_LABELS,
    figure_style,
)
from empathy_fmri.task.scores import SCORE_NAMES

__all__ = [
    "EFFECT_LABEL",
    "SCORE_LABELS",
    "plot_brain_behaviour",
    "plot_roi_effects",
    "plot_sample_size_comparison",
]

#: Axis label of the needle-minus-swab effect.
EFFECT_LABEL = "needle - swab effect (% signal change)"

#: Axis labels of the behavioural scores of the phenotype file.
SCORE_LABELS = {
    **SCORE_NAMES,
    "willingness_to_harm": f"{SCORE_NAMES['willingness_to_harm']} (share of harmful choices)",
}


def _jitter(n: int, width: float = 0.22) -> np.ndarray:
    """Evenly spread horizontal offsets (deterministic, no random jitter)."""
    if n == 1:
        return np.zeros(1)
    return np.linspace(-width / 2, width / 2, n)


def plot_roi_effects(
    roi_table: pd.DataFrame,
    confidence_level: float = 0.95,
    title: str = "Needle - swab effect per ROI",
) -> Figure:
    """Draw each ROI's mean effect with its interval and every subject as a point.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv`` (``participant_id``, ``roi``, ``selection``,
        ``needle_minus_swab``).
    confidence_level : float
        Level of the t interval of the mean.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis: ROIs along x, one column of points per selection, mean and
        interval drawn over the points. Only the selections made once for
        every score (``score`` ``all``: independent, group_peak) are drawn.
    """
    if "score" in roi_table:
        roi_table = roi_table[roi_table["score"].astype(str) == "all"]
    summary = roi_effect_summary(roi_table, confidence_level)
    rois = list(dict.fromkeys(roi_table["roi"]))
    selections = [s for s in SELECTION_LABELS if s in set(roi_table["selection"])]
    offsets = dict(zip(selections, _jitter(len(selections), 0.4), strict=True))
    level = f"{100 * confidence_level:g}%"
    with figure_style():
        figure = Figure(figsize=(max(6.0, 1.5 * len(rois) + 2), 4.6), layout="constrained")
        ax = figure.subplots()
        for selection in selections:
            colour = SELECTION_COLOURS[selection]
            for k, roi in enumerate(rois):
                values = roi_table.loc[
                    (roi_table["roi"] == roi) & (roi_table["selection"] == selection),
                    "needle_minus_swab",
                ].to_numpy(float)
                xs = k + offsets[selection] + _jitter(values.size, 0.14)[np.argsort(values)]
                ax.scatter(xs, values, s=16, color=colour, alpha=0.45, lw=0)
                row = summary[(summary["roi"] == roi) & (summary["selection"] == selection)]
                mean = float(row["mean"].iloc[0])
                low, high = float(row["ci_low"].iloc[0]), float(row["ci_high"].iloc[0])
                ax.errorbar(
                    k + offsets[selection] + 0.12,
                    mean,
                    yerr=[[mean - low], [high - mean]],
                    fmt="o",
                    color=colour,
                    ms=6,
                    capsize=3,
                    lw=1.6,
                    mec="white",
                    mew=0.8,
                )
        ax.axhline(0, color="0.5", lw=0.8, ls="--")
        ax.set_xticks(range(len(rois)), rois)
        ax.set_xlabel("region of interest")
        ax.set_ylabel(EFFECT_LABEL)
        n = int(summary["n"].max()) if len(summary) else 0
        handles = [
            Line2D(
                [],
                [],
                color=SELECTION_COLOURS[s],
                marker="o",
                lw=1.6,
                label=f"{SELECTION_LABELS[s]}: mean, {level} CI",
            )
            for s in selections
        ] + [Line2D([], [], color="0.5", marker="o", lw=0, alpha=0.45, label="one subject")]
        figure.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        ax.set_title(f"{title} (N = {n})")
    return figure


def plot_brain_behaviour(
    roi_table: pd.DataFrame,
    phenotype: pd.DataFrame,
    results: pd.DataFrame,
    score: str,
    confidence_level: float = 0.95,
    title: str | None = None,
) -> Figure:
    """Scatter each ROI's effect against a behavioural score, one panel per ROI.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv`` (``participant_id``, ``roi``, ``selection``,
        ``needle_minus_swab``).
    phenotype : pandas.DataFrame
        Scores indexed by ``participant_id``.
    results : pandas.DataFrame
        ``brain_behaviour.tsv`` (``roi``, ``selection``, ``score``, ``n``,
        ``r``, ``ci_low``, ``ci_high``, ``p_corrected``): the statistics
        written in each panel, so the figure shows the reported numbers.
    score : str
        Score column (x axis).
    confidence_level : float
        Level of the regression band.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Rows: the selections (independent, group_peak, behaviour_peak and
        cross_validated, those present; the last two chosen on this
        ``score``); columns: ROIs. Every panel has the subjects, the
        least-squares line, its band, and ``r [CI]`` with the corrected p.
    """
    if score not in phenotype.columns:
        raise ValueError(f"score: '{score}' is not a column of the phenotype table")
    if "score" in roi_table:
        roi_table = roi_table[roi_table["score"].astype(str).isin(["all", score])]
    rois = list(dict.fromkeys(roi_table["roi"]))
    selections = [s for s in SELECTION_LABELS if s in set(roi_table["selection"])]
    level = f"{100 * confidence_level:g}%"
    with figure_style():
        figure = Figure(
            figsize=(2.9 * len(rois) + 0.8, 2.9 * len(selections) + 1.0), layout="constrained"
        )
        axes = figure.subplots(len(selections), len(rois), sharex=True, sharey=True, squeeze=False)
        for i, selection in enumerate(selections):
            colour = SELECTION_COLOURS[selection]
            for j, roi in enumerate(rois):
                ax = axes[i, j]
                brain = roi_table[
                    (roi_table["roi"] == roi) & (roi_table["selection"] == selection)
                ].set_index("participant_id")["needle_minus_swab"]
                common = brain.index.intersection(phenotype.index)
                x = phenotype.loc[common, score].to_numpy(float)
                y = brain.loc[common].to_numpy(float)
                keep = np.isfinite(x) & np.isfinite(y)
                x, y = x[keep], y[keep]
                ax.scatter(x, y, s=22, color=colour, alpha=0.8, lw=0.4, ec="white", zorder=3)
                if x.size >= 3 and np.ptp(x) > 0:
                    grid = np.linspace(x.min(), x.max(), 100)
                    fit, low, high = regression_band(x, y, grid, confidence_level)
                    ax.fill_between(grid, low, high, color=colour, alpha=0.15, lw=0)
                    ax.plot(grid, fit, color=colour, lw=1.8)
                ax.text(
                    0.03,
                    0.97,
                    _stats_text(results, roi, selection, score),
                    transform=ax.transAxes,
                    va="top",
                    ha="left",
                    fontsize=8.5,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.8", "alpha": 0.85},
                    zorder=4,
                )
                if i == 0:
                    ax.set_title(roi)
                if j == 0:
                    ax.set_ylabel(
                        f"{SELECTION_LABELS[selection].split(' (')[0]}\n{EFFECT_LABEL}", fontsize=9
                    )
        low, high = axes[0, 0].get_ylim()
        axes[0, 0].set_ylim(low, high + 0.35 * (high - low))  # room for the statistics
        figure.supxlabel(SCORE_LABELS.get(score, score))
        figure.suptitle(
            title
            or f"Needle - swab effect against {SCORE_LABELS.get(score, score)}\n"
            f"least-squares line with its {level} confidence band; r with its {level} CI "
            f"and Holm-corrected p; rows: ROI selections"
        )
    return figure


def plot_sample_size_comparison(
    samples: dict[int, np.ndarray],
    rho: float,
    significant: dict[int, np.ndarray],
    intervals: dict[int, tuple[float, float]],
    alpha: float = 0.05,
    title: str | None = None,
) -> Figure:
    """Histogram of the sample r of many simulated studies, one panel per sample size.

    Parameters
    ----------
    samples : dict of int to numpy.ndarray
        Sample size -> sample correlations of simulated studies, e.g. from
        :func:`empathy_fmri.evaluation.sample_size.simulate_correlations`.
    rho : float
        Population correlation (drawn as a line).
    significant : dict of int to numpy.ndarray
        Per sample size, which studies were significant (boolean, as ``samples``),
        from :func:`empathy_fmri.evaluation.sample_size.significance_and_interval`.
    intervals : dict of int to (float, float)
        Per sample size, the 95% interval of a study that observed ``r = rho``.
    alpha : float
        Two-sided significance level (for the legend).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per size, sharing the r axis, with the 95% Fisher interval
        of a study that observed ``r = rho``, and the mean |r| of the
        significant studies.
    """
    if not samples:
        raise ValueError("samples is empty: give at least one sample size")
    bins = np.linspace(-1, 1, 81)
    with figure_style():
        figure = Figure(figsize=(9, 2.0 + 2.2 * len(samples)), layout="constrained")
        axes = figure.subplots(len(samples), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (n, r) in zip(axes, samples.items(), strict=True):
            r = np.asarray(r, float)
            chosen = np.asarray(significant[n], bool)
            ax.hist(r[~chosen], bins=bins, color="0.7", label=f"p >= {alpha:g}")
            ax.hist(
                r[chosen],
                bins=bins,
                color=SELECTION_COLOURS["behaviour_peak"],
                label=f"p < {alpha:g} ({100 * chosen.mean():.0f}% of studies)",
            )
            ax.axvline(rho, color="black", lw=1.6, label=f"population r = {rho:.2f}")
            low, high = intervals[n]
            ax.axvspan(
                float(low),
                float(high),
                color=SELECTION_COLOURS["independent"],
                alpha=0.12,
                zorder=0,
                label=f"95% CI if r = {rho:.2f}: width {float(high - low):.2f}",
            )
            if chosen.any():
                inflated = float(np.abs(r[chosen]).mean())
                ax.axvline(
                    np.sign(rho or 1) * inflated,
                    color=SELECTION_COLOURS["behaviour_peak"],
                    ls="--",
                    lw=1.4,
                    label=f"mean |r| if significant = {inflated:.2f}",
                )
            ax.set_title(f"N = {n}: {r.size} simulated studies", loc="left")
            ax.set_ylabel("studies")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8.5)
        axes[-1].set_xlim(-1, 1)
        axes[-1].set_xlabel("sample correlation r")
        figure.suptitle(title or "How the sample size sets the spread of a correlation")
    return figure


def _stats_text(results: pd.DataFrame, roi: str, selection: str, score: str) -> str:
    """``r = ... [low, high]`` and the corrected p of one correlation."""
    row = results[
        (results["roi"] == roi) & (results["selection"] == selection) & (results["score"] == score)
    ]
    if row.empty:
        return "no statistics"
    row = row.iloc[0]
    if not np.isfinite(row["r"]):
        return f"n = {int(row['n'])}: r undefined"
    p = row["p_corrected"]
    p_text = "p(Holm) < 0.001" if p < 0.001 else f"p(Holm) = {p:.3f}"
    return (
        f"r = {row['r']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]\n"
        f"{p_text}, n = {int(row['n'])}"
    )
