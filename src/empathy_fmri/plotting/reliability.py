"""Figure of the split-half reliability: ICC(3,1) and its Spearman-Brown projection per ROI."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from empathy_fmri.plotting.style import SELECTION_COLOURS, SELECTION_LABELS, figure_style
from empathy_fmri.task.scores import score_name

__all__ = ["plot_reliability"]

#: Vertical offsets of the two estimates on an ROI's row.
_OFFSETS = {"icc": 0.17, "sb": -0.17}


def _row_label(roi: str, score: str) -> str:
    return roi if score == "all" else f"{roi}, {score_name(score)}"


def plot_reliability(table: pd.DataFrame, title: str = "Split-half reliability") -> Figure:
    """Draw each ROI estimate's split-half ICC and its projection to all the data.

    Parameters
    ----------
    table : pandas.DataFrame
        ``reliability.tsv`` (``roi``, ``selection``, ``score``, ``split``,
        ``n_subjects``, ``icc`` and ``spearman_brown`` with their ``*_ci_low``
        and ``*_ci_high``), as
        :func:`~empathy_fmri.analysis.reliability.split_half_reliability`
        writes it.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per selection, one row per ROI (and score, for the ROIs
        chosen on a score): ICC(3,1) of the halves as a filled point with its
        95% interval, the Spearman-Brown reliability of the all-data estimate
        as an open point with its interval; rows without an estimate (too
        few subjects) are left empty. The x axis runs from -1 to 1 (a
        projected bound below -1 is drawn at the axis' edge).
    """
    if table.empty:
        raise ValueError("table is empty: no reliability to draw")
    selections = [s for s in SELECTION_LABELS if s in set(table["selection"])]
    selections += [s for s in dict.fromkeys(table["selection"]) if s not in selections]
    heights = [int((table["selection"] == s).sum()) for s in selections]
    splits = ", ".join(sorted({str(s) for s in table["split"]}))
    n = int(table["n_subjects"].max())
    # A fixed layout, in inches: matplotlib's constrained layout solved this stack
    # of panels to within a few ulps that differed from one process to the next,
    # and the SVG's clip-path ids hash the exact floats (byte-identical figures).
    row_in, gap_in, top_in, bottom_in = 0.24, 0.55, 0.75, 0.9
    height = top_in + bottom_in + row_in * sum(heights) + gap_in * (len(selections) - 1)
    with figure_style():
        figure = Figure(figsize=(7.2, height))
        axes = figure.subplots(
            len(selections),
            1,
            squeeze=False,
            gridspec_kw={
                "height_ratios": heights,
                "left": 0.36,
                "right": 0.97,
                "top": 1 - top_in / height,
                "bottom": bottom_in / height,
                "hspace": gap_in / (row_in * sum(heights) / len(selections)),
            },
        )
        for ax, selection in zip(axes[:, 0], selections, strict=True):
            rows = table[table["selection"] == selection].reset_index(drop=True)
            colour = SELECTION_COLOURS.get(selection, "0.3")
            ys = np.arange(len(rows))[::-1].astype(float)
            for key, filled in (("icc", True), ("sb", False)):
                # the projection of a negative ICC falls below -1; the axis ends there
                value = np.clip(
                    rows["icc" if key == "icc" else "spearman_brown"].to_numpy(float), -1, 1
                )
                low = np.clip(rows[f"{key}_ci_low"].to_numpy(float), -1, 1)
                high = np.clip(rows[f"{key}_ci_high"].to_numpy(float), -1, 1)
                shown = np.isfinite(value)
                ax.errorbar(
                    value[shown],
                    ys[shown] + _OFFSETS[key],
                    xerr=[value[shown] - low[shown], high[shown] - value[shown]],
                    fmt="o" if filled else "D",
                    color=colour,
                    mfc=colour if filled else "white",
                    ms=5 if filled else 4.5,
                    capsize=2,
                    lw=1.3 if filled else 0.9,
                    alpha=1.0 if filled else 0.8,
                )
            ax.axvline(0, color="0.5", lw=0.8, ls="--")
            ax.set_yticks(
                ys, [_row_label(r.roi, str(r.score)) for r in rows.itertuples()], fontsize=8
            )
            ax.set_ylim(-0.6, len(rows) - 0.4)
            ax.set_title(SELECTION_LABELS.get(selection, selection), fontsize=9, loc="left")
            ax.set_xlim(-1.02, 1.02)
            ax.tick_params(axis="x", labelbottom=ax is axes[-1, 0])
        axes[-1, 0].set_xlabel("reliability across subjects")
        handles = [
            Line2D(
                [], [], color="0.3", marker="o", lw=1.3, label="ICC(3,1) of the two halves, 95% CI"
            ),
            Line2D(
                [],
                [],
                color="0.3",
                marker="D",
                mfc="white",
                lw=0.9,
                label="Spearman-Brown: all the data, 95% CI",
            ),
        ]
        figure.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=2,
            frameon=False,
        )
        figure.suptitle(
            f"{title} of the ROI estimates ({splits}; N = {n})", fontsize=11, y=1 - 0.2 / height
        )
    return figure
