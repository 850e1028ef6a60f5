"""Figures of the power analysis: power curves, r by sample size, exaggeration, replicates.

Each ``plot_<figure>`` takes the power table (``results/power/power.tsv``)
and returns a matplotlib ``Figure``; :func:`figure_power` draws the three
power figures and saves them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.plotting.style import (
    ATTENUATED_LINE,
    POPULATION_LINE,
    figure_style,
    roi_colour,
)
from empathy_fmri.task.scores import SCORE_NAMES

__all__ = [
    "plot_exaggeration",
    "plot_power_curves",
    "plot_r_distribution",
    "plot_replicate_comparison",
]

#: Default fewest Holm-significant studies a type M / type S point rests on
#: (the workflow passes evaluation.conclusion.MIN_SIGNIFICANT_STUDIES, which
#: the bottom line uses too).
MIN_SIGNIFICANT_STUDIES = 20

_SCORE_TITLES = SCORE_NAMES


def _rois(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["roi"]))


def _scores(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["score"]))


_STUDY_LINE = {"color": "0.35", "lw": 0.9, "ls": ":"}


def _mark_study(ax, study_n: int | None) -> None:
    if study_n:
        ax.axvline(study_n, **_STUDY_LINE)


def _roi_handles(rois: Sequence[str]) -> list[Line2D]:
    """Legend entries naming each ROI's colour (squares, so that no line style is implied)."""
    return [
        Line2D([], [], color=roi_colour(k), marker="s", ms=7, ls="", label=roi)
        for k, roi in enumerate(rois)
    ]


def _study_handle(study_n: int | None) -> list[Line2D]:
    if not study_n:
        return []
    return [Line2D([], [], label=f"this study's N = {study_n}", **_STUDY_LINE)]


def _log_x(ax, sizes: Sequence[int]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(list(sizes), [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("participants per study")


def _dodge(sizes: np.ndarray, k: int, n: int, width: float = 0.06) -> np.ndarray:
    """Shift points on a log axis so that ROIs at the same N do not overlap."""
    return sizes * np.exp(width * (k - (n - 1) / 2))


def plot_power_curves(table: pd.DataFrame, study_n: int | None = None) -> Figure:
    """Draw power against sample size for every ROI x score pair, with and without Holm.

    Parameters
    ----------
    table : pandas.DataFrame
        ``power.tsv`` from :func:`empathy_fmri.evaluation.monte_carlo.power_table`.
    study_n : int, optional
        The study's own sample size, marked by a dotted vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per score; per ROI the Monte Carlo power of the test the
        analysis makes, Holm-corrected across the ROI x score family (solid
        line, filled points: ``power_holm``), the same uncorrected (dashed,
        open points: ``power``), and the uncorrected power a perfectly
        measured study would have (dotted: Fisher z at the population r).
        The legend names the line styles and, per sample size, the
        family-wise false-positive rate over the null pairs.
    """
    rois, scores = _rois(table), _scores(table)
    sizes = sorted(table["sample_size"].unique())
    alpha = float(table["alpha"].iloc[0])
    family_size = int(table["family_size"].iloc[0])
    with figure_style():
        figure = Figure(figsize=(3.6 * len(scores) + 0.4, 3.9), layout="constrained")
        axes = figure.subplots(1, len(scores), sharey=True, squeeze=False)[0]
        for ax, score in zip(axes, scores, strict=True):
            for k, roi in enumerate(rois):
                rows = table[(table["roi"] == roi) & (table["score"] == score)]
                rows = rows.sort_values("sample_size")
                n = rows["sample_size"].to_numpy(float)
                colour = roi_colour(k)
                ax.plot(n, rows["power_fisher_z_perfect"], color=colour, lw=0.9, ls=":", alpha=0.8)
                ax.plot(
                    n, rows["power"], color=colour, lw=1, ls="--", marker="o", ms=3.5, mfc="white"
                )
                ax.plot(n, rows["power_holm"], color=colour, lw=1.4, marker="o", ms=3.5)
            ax.axhline(0.8, color="0.6", lw=0.8)
            ax.axhline(alpha, color="0.6", lw=0.8, ls=":")
            _mark_study(ax, study_n)
            _log_x(ax, sizes)
            ax.set_ylim(0, 1.02)
            ax.set_title(_SCORE_TITLES.get(score, score))
        axes[0].set_ylabel(f"power (share of studies with p < {alpha:g})")
        handles = _roi_handles(rois)
        handles += [
            Line2D(
                [],
                [],
                color="0.3",
                lw=1.4,
                marker="o",
                ms=3.5,
                label=f"solid, filled: with Holm across {family_size} pairs\n(the study's test)",
            ),
            Line2D(
                [],
                [],
                color="0.3",
                lw=1,
                ls="--",
                marker="o",
                ms=3.5,
                mfc="white",
                label="dashed, open: uncorrected",
            ),
            Line2D(
                [],
                [],
                color="0.3",
                lw=0.9,
                ls=":",
                label="dotted: uncorrected power of a\nperfectly measured study (Fisher z)",
            ),
            Line2D([], [], color="0.6", lw=0.8, label="grey: 80% power"),
            Line2D([], [], color="0.6", lw=0.8, ls=":", label=f"grey dotted: alpha = {alpha:g}"),
            *_study_handle(study_n),
        ]
        family = table.groupby("sample_size")[["fwer_uncorrected", "fwer_holm"]].first()
        if family["fwer_holm"].notna().any():
            n_null = int(table["n_null_pairs"].iloc[0])
            lines = [f"P(any of {n_null} null pairs p < {alpha:g})", "N: uncorrected / Holm"]
            lines += [
                f"{n}: {row.fwer_uncorrected:.2f} / {row.fwer_holm:.3f}"
                for n, row in family.iterrows()
            ]
            handles.append(Line2D([], [], lw=0, label="\n".join(lines)))
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle("How often a study detects each brain-behaviour correlation")
    return figure


def plot_r_distribution(table: pd.DataFrame, study_n: int | None = None) -> Figure:
    """Draw the median and 95% range of the estimated r against sample size.

    Parameters
    ----------
    table : pandas.DataFrame
        ``power.tsv``.
    study_n : int, optional
        The study's own sample size.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per score; per ROI the median r and its 2.5-97.5% range
        across simulated studies, the population r (solid) and the
        attenuated r ``r_attenuated``, what a study estimates on average
        (dashed): the line convention of every figure that grades a correlation.
    """
    rois, scores = _rois(table), _scores(table)
    sizes = sorted(table["sample_size"].unique())
    with figure_style():
        figure = Figure(figsize=(3.6 * len(scores) + 0.4, 3.9), layout="constrained")
        axes = figure.subplots(1, len(scores), sharey=True, squeeze=False)[0]
        for ax, score in zip(axes, scores, strict=True):
            for k, roi in enumerate(rois):
                rows = table[(table["roi"] == roi) & (table["score"] == score)]
                rows = rows.sort_values("sample_size")
                n = _dodge(rows["sample_size"].to_numpy(float), k, len(rois), 0.08)
                colour = roi_colour(k)
                median = rows["r_median"].to_numpy()
                ax.errorbar(
                    n,
                    median,
                    yerr=[median - rows["r_q025"].to_numpy(), rows["r_q975"].to_numpy() - median],
                    fmt="o",
                    ms=3.5,
                    color=colour,
                    lw=1.1,
                    capsize=0,
                )
                ax.axhline(
                    rows["r_population"].iloc[0], **{**POPULATION_LINE, "color": colour, "lw": 1.0}
                )
                ax.axhline(
                    rows["r_attenuated"].iloc[0], **{**ATTENUATED_LINE, "color": colour, "lw": 1.0}
                )
            ax.axhline(0, color="0.6", lw=0.8)
            _mark_study(ax, study_n)
            _log_x(ax, sizes)
            ax.set_ylim(-1, 1)
            ax.set_title(_SCORE_TITLES.get(score, score))
        axes[0].set_ylabel("Pearson r across simulated studies")
        handles = _roi_handles(rois)
        handles += [
            Line2D(
                [],
                [],
                color="0.3",
                marker="o",
                lw=1.1,
                label="point and bar: median and\n2.5-97.5% range of r",
            ),
            Line2D([], [], label="solid: population r", **{**POPULATION_LINE, "lw": 1.0}),
            Line2D(
                [],
                [],
                label="dashed: attenuated r (what a\nstudy estimates on average)",
                **{**ATTENUATED_LINE, "lw": 1.0},
            ),
            *_study_handle(study_n),
        ]
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle("Spread of the estimated correlation by sample size")
    return figure


def plot_exaggeration(
    table: pd.DataFrame,
    study_n: int | None = None,
    min_significant: int = MIN_SIGNIFICANT_STUDIES,
) -> Figure:
    """Draw the exaggeration ratio (type M) and the type S rate against sample size.

    Both are taken among the studies in which the pair is significant after
    Holm's correction across the study's ROI x score family, the analysis's
    own test (``exaggeration_ratio_holm``, ``type_s_holm``); a point resting
    on fewer than ``min_significant`` such studies is left out.

    Parameters
    ----------
    table : pandas.DataFrame
        ``power.tsv``; null pairs (population r = 0) are left out.
    study_n : int, optional
        The study's own sample size.
    min_significant : int
        Fewest Holm-significant studies a point may rest on.

    Returns
    -------
    matplotlib.figure.Figure
        Left: mean ``|r|`` of significant studies over ``|population r|``.
        Above 1, significant studies overstate the population r (small N:
        only large r reach p < alpha). Measurement error pulls every
        study's r towards the attenuated r, so where the significance
        threshold falls below it (large N) the ratio falls towards
        ``|r_attenuated| / |r_population|``, marked for each pair at the
        right edge: below 1, significant studies understate the population
        r. Right: share of significant studies with the wrong sign. Colour
        by ROI, line style by score.
    """
    table = table[~table["null_pair"].astype(bool)]
    rois, scores = _rois(table), _scores(table)
    sizes = sorted(table["sample_size"].unique())
    styles = dict(zip(scores, ["-", "--", ":", "-."], strict=False))
    with figure_style():
        figure = Figure(figsize=(10.5, 4.2), layout="constrained")
        left, right = figure.subplots(1, 2)
        limit_x = max(sizes) * 1.45
        for k, roi in enumerate(rois):
            for score in scores:
                rows = table[(table["roi"] == roi) & (table["score"] == score)]
                rows = rows.sort_values("sample_size")
                n = rows["sample_size"].to_numpy(float)
                style = {
                    "color": roi_colour(k),
                    "ls": styles[score],
                    "lw": 1.3,
                    "marker": "o",
                    "ms": 3,
                }
                enough = rows["n_significant_holm"].to_numpy(float) >= min_significant
                left.plot(n, rows["exaggeration_ratio_holm"].where(enough), **style)
                right.plot(n, rows["type_s_holm"].where(enough), **style)
                floor = abs(rows["r_attenuated"].iloc[0] / rows["r_population"].iloc[0])
                left.plot(
                    limit_x, floor, marker="<", ms=6, color=roi_colour(k), mec="0.2", mew=0.5, ls=""
                )
        left.axhline(1, color="0.6", lw=0.8)
        left.set_yscale("log")
        floors = (table["r_attenuated"] / table["r_population"]).abs().to_numpy(float)
        shown = table["exaggeration_ratio_holm"].where(
            table["n_significant_holm"] >= min_significant
        )
        ratios = np.concatenate([shown.to_numpy(float), floors])
        low = min(0.8, 0.8 * np.nanmin(ratios, initial=1.0))
        high = max(1.25, 1.25 * np.nanmax(ratios, initial=1.0))
        ticks = [t for t in (0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32) if low <= t <= high]
        left.set_ylim(low, high)
        left.set_yticks(ticks, [f"{t:g}" for t in ticks])
        left.minorticks_off()
        left.set_ylabel("mean |r| if significant (Holm) / |population r|")
        left.set_title("Exaggeration ratio (type M)")
        right.set_ylabel("share of significant (Holm) studies")
        right.set_title("Wrong sign (type S)")
        right.set_ylim(bottom=0)
        for ax in (left, right):
            _mark_study(ax, study_n)
            _log_x(ax, sizes)
        left.set_xlim(right=limit_x * 1.15)
        handles = _roi_handles(rois)
        handles += [
            Line2D([], [], color="0.3", ls=styles[s], label=_SCORE_TITLES.get(s, s)) for s in scores
        ]
        handles += [
            Line2D(
                [],
                [],
                color="0.6",
                lw=0.8,
                label="ratio 1: significant studies\nreport the population r",
            ),
            Line2D(
                [],
                [],
                color="0.6",
                marker="<",
                mec="0.2",
                mew=0.5,
                ls="",
                label="|attenuated r| / |population r|:\nwhere the ratio ends at large N",
            ),
            *_study_handle(study_n),
        ]
        figure.legend(handles=handles, loc="outside right center", frameon=False)
        figure.suptitle(
            "Among studies significant after Holm: r against the population r "
            "(winner's curse above 1, attenuation below)"
        )
    return figure


def plot_replicate_comparison(
    replicate_r: pd.DataFrame,
    fast_r: Mapping[tuple[str, str], np.ndarray],
    comparison: pd.DataFrame,
) -> Figure:
    """Draw the r of full-pipeline replicate studies over the fast Monte Carlo's distribution.

    Parameters
    ----------
    replicate_r : pandas.DataFrame
        ``roi``, ``score``, ``r`` of every replicate study.
    fast_r : mapping of (roi, score) to numpy.ndarray
        The fast Monte Carlo's r at the same design.
    comparison : pandas.DataFrame
        From :func:`empathy_fmri.evaluation.replicates.compare_with_fast_mode`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per ROI x score: the fast-mode histogram, each replicate's
        r as a tick, and both sets of quartiles.
    """
    pairs = list(fast_r)
    scores = list(dict.fromkeys(s for _, s in pairs))
    rois = list(dict.fromkeys(r for r, _ in pairs))
    with figure_style():
        figure = Figure(
            figsize=(2.3 * len(rois) + 0.4, 1.9 * len(scores) + 1.1), layout="constrained"
        )
        axes = figure.subplots(len(scores), len(rois), sharex=True, squeeze=False)
        bins = np.linspace(-1, 1, 41)
        for i, score in enumerate(scores):
            for j, roi in enumerate(rois):
                ax = axes[i, j]
                ax.hist(fast_r[(roi, score)], bins=bins, density=True, color="0.8")
                values = replicate_r[(replicate_r["roi"] == roi) & (replicate_r["score"] == score)][
                    "r"
                ].to_numpy()
                top = ax.get_ylim()[1]
                ax.vlines(values, 0, 0.12 * top, color=roi_colour(j), lw=1)
                rows = comparison[(comparison["roi"] == roi) & (comparison["score"] == score)]
                quartiles = rows[rows["statistic"].str.startswith("q")]
                for q in quartiles.itertuples():
                    ax.axvline(q.fast, color="0.35", lw=0.8)
                    ax.axvline(q.replicates, color=roi_colour(j), lw=0.9, ls="--")
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(roi)
                if j == 0:
                    ax.set_ylabel(_SCORE_TITLES.get(score, score), fontsize=8)
                if i == len(scores) - 1:
                    ax.set_xlabel("r")
        handles = [
            Line2D([], [], color="0.8", lw=6, label="fast Monte Carlo"),
            Line2D([], [], color="0.35", lw=0.8, label="fast-mode quartiles"),
            Line2D([], [], color="0.2", lw=0.9, ls="--", label="replicate quartiles"),
            Line2D([], [], color="0.2", lw=0, marker="|", ms=9, label="one replicate study"),
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
        n_rep = int(comparison["n_replicates"].iloc[0]) if len(comparison) else 0
        figure.suptitle(f"Full-pipeline replicates ({n_rep} studies) vs. the fast Monte Carlo")
    return figure
