"""Figures of the power analysis from a pilot: one column of panels per true r.

The pilot's ``power.tsv`` (:func:`empathy_fmri.evaluation.pilot_power.pilot_power_table`)
has a ``true_r`` column: the correlations the user plans for. Its figures are
those of :mod:`empathy_fmri.plotting.power` with one column of panels per
true r and one row per group of scores of equal reliability (with the default
reliability 1 every score gives the same numbers, so they share one row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.plotting.power import _dodge, _log_x, _mark_study, _rois
from empathy_fmri.plotting.style import figure_style, roi_colour

__all__ = [
    "plot_pilot_exaggeration",
    "plot_pilot_power_curves",
    "plot_pilot_r_distribution",
    "score_groups",
]


def score_groups(table: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Group the scores whose rows are alike: same reliability in every ROI.

    Parameters
    ----------
    table : pandas.DataFrame
        The pilot's ``power.tsv``.

    Returns
    -------
    list of (str, list of str)
        A label (score names and the reliability) and the scores, in table order.
    """
    reliability = table.groupby("score", sort=False)["reliability_behaviour"].first()
    groups: dict[float, list[str]] = {}
    for score, value in reliability.items():
        groups.setdefault(round(float(value), 12), []).append(str(score))
    return [
        (", ".join(s.replace("_", " ") for s in scores) + f" (reliability {value:.2f})", scores)
        for value, scores in groups.items()
    ]


def _grid(table: pd.DataFrame, rows: int, height: float = 2.9, sharey: bool | str = True):
    true_r = sorted(table["true_r"].unique())
    figure = Figure(figsize=(3.3 * len(true_r) + 2.4, height * rows + 0.9), layout="constrained")
    axes = figure.subplots(rows, len(true_r), sharex=True, sharey=sharey, squeeze=False)
    return figure, axes, true_r


def _bottom_labels_only(axes: np.ndarray) -> None:
    for ax in axes[:-1].flat:
        ax.set_xlabel("")


def _panel(table: pd.DataFrame, roi: str, score: str, true_r: float) -> pd.DataFrame:
    rows = table[(table["roi"] == roi) & (table["score"] == score) & (table["true_r"] == true_r)]
    return rows.sort_values("sample_size")


def plot_pilot_power_curves(table: pd.DataFrame, study_n: int | None = None) -> Figure:
    """Draw power against sample size per true r and ROI, with and without Holm.

    Parameters
    ----------
    table : pandas.DataFrame
        The pilot's ``power.tsv``.
    study_n : int, optional
        The pilot's sample size, marked by a dotted vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        Panels: columns true r, rows groups of scores (:func:`score_groups`).
        Per ROI the Monte Carlo power with Holm across the ROI x score family
        (solid, filled points; the other pairs null), uncorrected (dashed,
        open points); grey dotted: a perfectly measured study (Fisher z at
        the true r).
    """
    rois, groups = _rois(table), score_groups(table)
    sizes = sorted(table["sample_size"].unique())
    alpha = float(table["alpha"].iloc[0])
    family_size = int(table["family_size"].iloc[0])
    with figure_style():
        figure, axes, true_r = _grid(table, len(groups))
        for i, (label, scores) in enumerate(groups):
            for c, value in enumerate(true_r):
                ax = axes[i, c]
                for k, roi in enumerate(rois):
                    rows = _panel(table, roi, scores[0], value)
                    n = rows["sample_size"].to_numpy(float)
                    colour = roi_colour(k)
                    ax.plot(
                        n, rows["power"], color=colour, lw=1, ls="--", marker="o", ms=3, mfc="white"
                    )
                    ax.plot(n, rows["power_holm"], color=colour, lw=1.4, marker="o", ms=3)
                    if k == 0:
                        ax.plot(n, rows["power_fisher_z_perfect"], color="0.35", lw=0.9, ls=":")
                ax.axhline(0.8, color="0.6", lw=0.8)
                ax.axhline(alpha, color="0.6", lw=0.8, ls=":")
                _mark_study(ax, study_n)
                _log_x(ax, sizes)
                ax.set_ylim(0, 1.02)
                if i == 0:
                    ax.set_title(f"true r = {value:g}")
                if c == 0:
                    ax.set_ylabel(f"power (p < {alpha:g})\n{label}", fontsize=8)
        handles = [
            Line2D([], [], color=roi_colour(k), lw=1.4, label=roi) for k, roi in enumerate(rois)
        ]
        handles += [
            Line2D(
                [],
                [],
                color="0.3",
                lw=1.4,
                marker="o",
                ms=3,
                label=f"Holm across {family_size} pairs\n(the others null)",
            ),
            Line2D(
                [],
                [],
                color="0.3",
                lw=1,
                ls="--",
                marker="o",
                ms=3,
                mfc="white",
                label="uncorrected",
            ),
            Line2D(
                [],
                [],
                color="0.35",
                lw=0.9,
                ls=":",
                label="uncorrected, perfect\nmeasurement (Fisher z)",
            ),
        ]
        _bottom_labels_only(axes)
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle(
            "Power from the pilot: how often a study detects a correlation of "
            "the true r above (dotted vertical: the pilot's N)"
        )
    return figure


def plot_pilot_r_distribution(table: pd.DataFrame, study_n: int | None = None) -> Figure:
    """Draw the median and 95% range of the estimated r per true r and ROI.

    Parameters
    ----------
    table : pandas.DataFrame
        The pilot's ``power.tsv``.
    study_n : int, optional
        The pilot's sample size.

    Returns
    -------
    matplotlib.figure.Figure
        Panels as in :func:`plot_pilot_power_curves`; per ROI the median r
        and its 2.5-97.5% range across simulated studies and, dotted, the r
        expected after attenuation by the ROI's and the score's reliability;
        grey dashed: the true r.
    """
    rois, groups = _rois(table), score_groups(table)
    sizes = sorted(table["sample_size"].unique())
    with figure_style():
        figure, axes, true_r = _grid(table, len(groups))
        for i, (label, scores) in enumerate(groups):
            for c, value in enumerate(true_r):
                ax = axes[i, c]
                for k, roi in enumerate(rois):
                    rows = _panel(table, roi, scores[0], value)
                    n = _dodge(rows["sample_size"].to_numpy(float), k, len(rois), 0.08)
                    median = rows["r_median"].to_numpy()
                    ax.errorbar(
                        n,
                        median,
                        yerr=[
                            median - rows["r_q025"].to_numpy(),
                            rows["r_q975"].to_numpy() - median,
                        ],
                        fmt="o",
                        ms=3,
                        color=roi_colour(k),
                        lw=1,
                        capsize=0,
                    )
                    ax.axhline(rows["r_expected"].iloc[0], color=roi_colour(k), lw=0.9, ls=":")
                ax.axhline(value, color="0.35", lw=0.9, ls="--")
                ax.axhline(0, color="0.6", lw=0.8)
                _mark_study(ax, study_n)
                _log_x(ax, sizes)
                ax.set_ylim(-1, 1)
                if i == 0:
                    ax.set_title(f"true r = {value:g}")
                if c == 0:
                    ax.set_ylabel(f"Pearson r\n{label}", fontsize=8)
        handles = [
            Line2D([], [], color=roi_colour(k), marker="o", label=roi) for k, roi in enumerate(rois)
        ]
        handles += [
            Line2D([], [], color="0.3", marker="o", label="median, 2.5-97.5% range"),
            Line2D([], [], color="0.35", ls="--", label="true r"),
            Line2D([], [], color="0.3", ls=":", label="expected r after attenuation"),
        ]
        _bottom_labels_only(axes)
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle("Spread of the estimated correlation by sample size (from the pilot)")
    return figure


def plot_pilot_exaggeration(table: pd.DataFrame, study_n: int | None = None) -> Figure:
    """Draw the exaggeration ratio (type M) and the type S rate per true r.

    Parameters
    ----------
    table : pandas.DataFrame
        The pilot's ``power.tsv``; a true r of 0 is left out.
    study_n : int, optional
        The pilot's sample size.

    Returns
    -------
    matplotlib.figure.Figure
        Columns true r. Top: mean ``|r|`` of significant studies over the
        true ``|r|`` (log scale). Bottom: share of significant studies with
        the wrong sign. Colour by ROI, line style by group of scores.
    """
    table = table[~table["null_pair"].astype(bool)]
    rois, groups = _rois(table), score_groups(table)
    sizes = sorted(table["sample_size"].unique())
    styles = ["-", "--", ":", "-."]
    with figure_style():
        figure, axes, true_r = _grid(table, 2, height=2.6, sharey="row")
        for c, value in enumerate(true_r):
            top, bottom = axes[0, c], axes[1, c]
            for k, roi in enumerate(rois):
                for g, (_, scores) in enumerate(groups):
                    rows = _panel(table, roi, scores[0], value)
                    n = rows["sample_size"].to_numpy(float)
                    style = {
                        "color": roi_colour(k),
                        "ls": styles[g % len(styles)],
                        "lw": 1.2,
                        "marker": "o",
                        "ms": 3,
                    }
                    top.plot(n, rows["exaggeration_ratio"], **style)
                    bottom.plot(n, rows["type_s"], **style)
            top.axhline(1, color="0.6", lw=0.8)
            top.set_yscale("log")
            top.set_title(f"true r = {value:g}")
            for ax in (top, bottom):
                _mark_study(ax, study_n)
                _log_x(ax, sizes)
        ratios = table["exaggeration_ratio"].to_numpy(float)
        low = min(0.8, 0.8 * np.nanmin(ratios, initial=1.0))
        high = max(1.25, 1.25 * np.nanmax(ratios, initial=1.0))
        ticks = [t for t in (0.25, 0.5, 1, 2, 4, 8, 16, 32) if low <= t <= high]
        axes[0, 0].set_ylim(low, high)
        axes[0, 0].set_yticks(ticks, [f"{t:g}" for t in ticks])
        axes[0, 0].minorticks_off()
        axes[0, 0].set_ylabel("mean |r| if significant\n/ |true r| (type M)")
        axes[1, 0].set_ylabel("share of significant studies\nwith the wrong sign (type S)")
        axes[1, 0].set_ylim(bottom=0)
        handles = [Line2D([], [], color=roi_colour(k), label=roi) for k, roi in enumerate(rois)]
        handles += [
            Line2D([], [], color="0.3", ls=styles[g % len(styles)], label=label)
            for g, (label, _) in enumerate(groups)
        ]
        _bottom_labels_only(axes)
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle(
            "The winner's curse from the pilot: significant studies overstate the correlation"
        )
    return figure
