"""Figures that grade the analysis against the simulation's ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.plotting.style import (
    SELECTION_COLOURS,
    SELECTION_LABELS,
    figure_style,
    roi_colour,
)

__all__ = [
    "plot_noise_removal",
    "plot_truth_vs_estimate",
]


def plot_noise_removal(
    summary: pd.DataFrame, title: str = "What the first level removes"
) -> Figure:
    """Draw each noise component's variance before and after the first-level design.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`~empathy_fmri.evaluation.noise_removal.summarise_removal`.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        figure = Figure(figsize=(7.5, 3.6))
        axes = figure.subplots()
        labels = list(summary["component"])
        y = np.arange(len(labels))
        axes.barh(y + 0.2, summary["variance_psc2"], height=0.4, color="#bbbbbb",
                  label="in the data (mean removed)")
        axes.barh(y - 0.2, summary["remaining_psc2"], height=0.4, color="#1f77b4",
                  label="left after the first-level design")
        for position, (_, row) in zip(y, summary.iterrows(), strict=True):
            axes.text(
                row["variance_psc2"], position + 0.2,
                f"  {row['share_remaining']:.1%} left", va="center", fontsize=8,
            )
        axes.set_yticks(y, labels)
        axes.invert_yaxis()
        axes.set_xlabel("variance per grey-matter voxel (percent signal change squared)")
        axes.set_xlim(0, 1.35 * float(summary["variance_psc2"].max()))
        axes.legend(loc="upper right", fontsize=8)
        axes.set_title(title)
        figure.tight_layout()
    return figure


def plot_truth_vs_estimate(
    roi_table: pd.DataFrame,
    truth: pd.DataFrame,
    results: pd.DataFrame,
    population: pd.DataFrame,
    title: str = "Truth vs estimate",
) -> Figure:
    """Draw estimated against true ROI amplitudes, and recovered against population r.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv``; its ``independent`` rows are the estimates.
    truth : pandas.DataFrame
        ``participants_truth.tsv``: ``participant_id`` and ``true_<ROI>``
        (planted needle-minus-swab amplitude, psc).
    results : pandas.DataFrame
        ``brain_behaviour.tsv`` (``roi``, ``selection``, ``score``, ``r``,
        ``ci_low``, ``ci_high``).
    population : pandas.DataFrame
        ``population_correlations.tsv`` (``roi``, ``score``, ``r``,
        ``r_measured_score``).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Left: one point per subject and ROI, estimate against truth, with
        the identity line. Right: one row per ROI x score, the recovered r
        with its CI for each selection, and the population r of the true
        and of the measured score.
    """
    missing = {"participant_id"} - set(truth.columns)
    if missing:
        raise ValueError("truth lacks the column 'participant_id'")
    estimates = roi_table[roi_table["selection"] == "independent"]
    rois = list(dict.fromkeys(estimates["roi"]))
    absent = [r for r in rois if f"true_{r}" not in truth.columns]
    if absent:
        raise ValueError(f"truth lacks the column(s) {[f'true_{r}' for r in absent]}")
    truth = truth.set_index("participant_id")
    with figure_style():
        n_rows = len(population)
        figure = Figure(figsize=(12.5, max(5.2, 0.3 * n_rows + 1.8)), layout="constrained")
        left, right = figure.subplots(1, 2, width_ratios=[1.0, 1.15])
        values = []
        for k, roi in enumerate(rois):
            rows = estimates[estimates["roi"] == roi].set_index("participant_id")
            common = rows.index.intersection(truth.index)
            x = truth.loc[common, f"true_{roi}"].to_numpy(float)
            y = rows.loc[common, "needle_minus_swab"].to_numpy(float)
            values += [x, y]
            r = np.corrcoef(x, y)[0, 1] if x.size > 2 else float("nan")
            left.scatter(x, y, s=22, color=roi_colour(k), alpha=0.85, lw=0.4, ec="white",
                         label=f"{roi} (r = {r:.2f})")
        every = np.concatenate(values) if values else np.zeros(1)
        low, high = float(every.min()), float(every.max())
        pad = 0.08 * (high - low or 1.0)
        limits = (low - pad, high + pad)
        left.plot(limits, limits, color="0.4", lw=1, ls="--", label="estimate = truth")
        left.set_xlim(limits)
        left.set_ylim(limits)
        left.set_aspect("equal")
        left.set_xlabel("true needle - swab amplitude (% signal change)")
        left.set_ylabel("estimated amplitude, independent ROI (% signal change)")
        left.set_title("Per-subject ROI amplitudes", loc="left")
        left.legend(loc="upper left", frameon=False, fontsize=8.5)

        labels = []
        selections = [s for s in SELECTION_LABELS if s in set(results["selection"])]
        for row_index, row in enumerate(population.itertuples()):
            labels.append(f"{row.roi} x {row.score}")
            y = -row_index
            right.scatter(row.r, y, marker="D", s=34, color="black", zorder=4)
            right.scatter(row.r_measured_score, y, marker="|", s=120, color="black",
                          lw=1.6, zorder=4)
            for k, selection in enumerate(selections):
                match = results[(results["roi"] == row.roi) & (results["score"] == row.score)
                                & (results["selection"] == selection)]
                if match.empty or not np.isfinite(match["r"].iloc[0]):
                    continue
                est = match.iloc[0]
                offset = 0.18 * (k - (len(selections) - 1) / 2)
                right.errorbar(
                    est["r"], y + offset,
                    xerr=[[est["r"] - est["ci_low"]], [est["ci_high"] - est["r"]]],
                    fmt="o", ms=4.5, color=SELECTION_COLOURS[selection], lw=1.2, capsize=2,
                )
        right.axvline(0, color="0.6", lw=0.8)
        right.set_yticks(-np.arange(len(labels)), labels, fontsize=8.5)
        right.set_xlim(-1.05, 1.05)
        right.set_xlabel("correlation r")
        right.set_title("Recovered r (95% CI) vs population r", loc="left")
        handles = [
            Line2D([], [], color="black", marker="D", lw=0, label="population r (true score)"),
            Line2D([], [], color="black", marker="|", ms=10, lw=0, mew=1.6,
                   label="population r (score as measured)"),
            *[
                Line2D([], [], color=SELECTION_COLOURS[s], marker="o", lw=1.2,
                       label=f"recovered r: {SELECTION_LABELS[s].split(' (')[0].lower()}")
                for s in selections
            ],
        ]
        right.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                     ncols=2, frameon=False, fontsize=8.5)
        figure.suptitle(title)
    return figure


