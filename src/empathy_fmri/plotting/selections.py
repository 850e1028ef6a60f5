"""The lesson of the four ROI selections in one figure: r under each, against the truth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.plotting.style import (
    ATTENUATED_LABEL,
    ATTENUATED_LINE,
    POPULATION_LABEL,
    POPULATION_LINE,
    SELECTION_COLOURS,
    figure_style,
)

__all__ = [
    "SELECTION_ORDER",
    "behaviour_peak_farther",
    "plot_selection_r",
]

#: Left to right: honest, circular for the mean, circular for r, honest again.
SELECTION_ORDER = ("independent", "group_peak", "behaviour_peak", "cross_validated")
_SHORT = {
    "independent": "a priori",
    "group_peak": "group\npeak",
    "behaviour_peak": "behaviour\npeak",
    "cross_validated": "cross-\nfitted",
}


def behaviour_peak_farther(study: pd.DataFrame) -> tuple[int, int]:
    """In how many ROI x score pairs the behaviour-peak r is farther from 0 than the a-priori r.

    Parameters
    ----------
    study : pandas.DataFrame
        ``brain_behaviour.tsv``: ``roi``, ``selection``, ``score``, ``r``.

    Returns
    -------
    (int, int)
        Pairs where ``|r|`` of ``behaviour_peak`` exceeds that of
        ``independent``, and pairs where both are finite.
    """
    wide = study.pivot_table(index=["roi", "score"], columns="selection", values="r")
    if not {"independent", "behaviour_peak"} <= set(wide.columns):
        return 0, 0
    both = wide[["independent", "behaviour_peak"]].dropna()
    farther = both["behaviour_peak"].abs() > both["independent"].abs()
    return int(farther.sum()), len(both)


def _strip(ax, x: float, values: np.ndarray, colour: str, seed: int) -> None:
    """Jittered points and their 2.5-97.5% range; the jitter is seeded (reproducible)."""
    values = values[np.isfinite(values)]
    if not values.size:
        return
    jitter = np.random.default_rng(seed).uniform(-0.12, 0.12, values.size)
    ax.scatter(x + jitter, values, s=6, color=colour, alpha=0.45, linewidths=0, zorder=2)
    low, high = np.quantile(values, [0.025, 0.975])
    ax.plot([x, x], [low, high], color=colour, lw=2.5, alpha=0.8, zorder=3, solid_capstyle="butt")


def plot_selection_r(
    study: pd.DataFrame,
    truth: pd.DataFrame,
    rois: Sequence[str],
    scores: Sequence[str],
    replicates: pd.DataFrame | None = None,
    n_subjects: int | None = None,
) -> Figure:
    """r of every ROI x score under each selection: this study, replicate studies, truth.

    One panel per score (row) and ROI (column); along x the four selections.
    Points (in the selection's colour, black edge) are this study's r. With
    ``replicates``, the coloured strips are the r of replicate studies with the
    configured effects and the grey strips those of null replicates (no effect
    at all), each with its 2.5-97.5% range: an honest selection's null strip is centred on 0 and its
    effect strip on the dashed line; the behaviour-peak strips are pushed away
    from 0 either way. The solid line is the population r, the dashed one the
    r that measurement error attenuates it to (what an honest study
    estimates on average).

    Parameters
    ----------
    study : pandas.DataFrame
        ``brain_behaviour.tsv``: ``roi``, ``selection``, ``score``, ``r``.
    truth : pandas.DataFrame
        ``roi``, ``score``, ``r_population`` and ``r_attenuated`` (e.g. the
        ``independent`` rows of ``correlation_recovery.tsv``).
    rois, scores : sequence of str
        Panels, in order.
    replicates : pandas.DataFrame, optional
        Correlation tables of replicate studies with ``kind`` (``effect`` or
        ``null``), ``roi``, ``selection``, ``score``, ``r``.
    n_subjects : int, optional
        Participants per study, for the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        figure = Figure(figsize=(2.3 * len(rois) + 1.0, 2.4 * len(scores) + 1.2))
        axes = figure.subplots(len(scores), len(rois), sharex=True, sharey=True, squeeze=False)
        truth = truth.set_index(["roi", "score"])
        for i, score in enumerate(scores):
            for j, roi in enumerate(rois):
                ax = axes[i, j]
                ax.axhline(0, color="0.8", lw=0.8, zorder=0)
                if (roi, score) in truth.index:
                    row = truth.loc[(roi, score)]
                    ax.axhline(float(row["r_population"]), zorder=1, **POPULATION_LINE)
                    ax.axhline(float(row["r_attenuated"]), zorder=1, **ATTENUATED_LINE)
                for x, selection in enumerate(SELECTION_ORDER):
                    colour = SELECTION_COLOURS.get(selection, "C0")
                    if replicates is not None:
                        chosen = replicates[
                            (replicates["roi"] == roi)
                            & (replicates["score"] == score)
                            & (replicates["selection"] == selection)
                        ]
                        for offset, kind, tint in ((-0.2, "effect", colour), (0.2, "null", "0.55")):
                            values = chosen.loc[chosen["kind"] == kind, "r"].to_numpy(float)
                            _strip(ax, x + offset, values, tint, seed=97 * x + 13 * i + j)
                    mine = study[
                        (study["roi"] == roi)
                        & (study["score"] == score)
                        & (study["selection"] == selection)
                    ]["r"]
                    if len(mine):
                        ax.plot(
                            x,
                            float(mine.iloc[0]),
                            marker="o",
                            ms=6.5,
                            color=colour,
                            mec="black",
                            mew=0.9,
                            zorder=4,
                        )
                ax.set_ylim(-1, 1)
                ax.set_xlim(-0.6, len(SELECTION_ORDER) - 0.4)
                ax.set_xticks(
                    range(len(SELECTION_ORDER)), [_SHORT[s] for s in SELECTION_ORDER], fontsize=7
                )
                if i == 0:
                    ax.set_title(roi)
                if j == 0:
                    ax.set_ylabel(f"r with {score}")
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                color="0.6",
                mec="black",
                ls="",
                label="this study's r (colour: ROI selection)",
            ),
            Line2D([], [], label=POPULATION_LABEL, **POPULATION_LINE),
            Line2D([], [], label=ATTENUATED_LABEL, **ATTENUATED_LINE),
        ]
        if replicates is not None:
            k_effect = replicates.loc[replicates["kind"] == "effect", "replicate"].nunique()
            k_null = replicates.loc[replicates["kind"] == "null", "replicate"].nunique()
            handles += [
                Line2D(
                    [],
                    [],
                    color=SELECTION_COLOURS.get("independent", "C0"),
                    lw=2.5,
                    label=f"{k_effect} replicate studies (2.5-97.5%)",
                ),
                Line2D([], [], color="0.55", lw=2.5, label=f"{k_null} null replicate studies"),
            ]
        figure.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8)
        size = f"{n_subjects} subjects: " if n_subjects else ""
        farther, panels = behaviour_peak_farther(study)
        figure.suptitle(
            f"{size}brain-behaviour r under each ROI selection, against the truth\n"
            f"this study: the behaviour-peak |r| exceeds the a-priori |r| in {farther} of "
            f"{panels} ROI x score panels"
        )
        figure.subplots_adjust(
            left=0.07, right=0.99, top=0.88, bottom=0.14, hspace=0.25, wspace=0.08
        )
    return figure
