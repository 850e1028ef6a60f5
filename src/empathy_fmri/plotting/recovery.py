"""Figures of the validation tables: amplitude recovery, map accuracy, correlation recovery.

Each ``plot_<figure>`` takes the data and returns a matplotlib ``Figure``
(object-oriented API, no pyplot); :mod:`empathy_fmri.evaluation.validation` saves them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from empathy_fmri.plotting.style import (
    ATTENUATED_LABEL,
    ATTENUATED_LINE,
    POPULATION_LABEL,
    POPULATION_LINE,
    SELECTION_COLOURS,
    SELECTION_LABELS,
    figure_style,
    roi_colour,
)

__all__ = [
    "MAP_CATEGORY_COLOURS",
    "plot_amplitude_recovery",
    "plot_correlation_recovery",
    "plot_map_accuracy",
]

#: Colour of each voxel category of the map-accuracy figure.
MAP_CATEGORY_COLOURS = {
    "detected (true positive)": "#009E73",
    "missed (false negative)": "#56B4E9",
    "false positive, near a true region": "#E69F00",
    "false positive, distant": "#D55E00",
}


def plot_amplitude_recovery(
    estimates: pd.DataFrame, truth: pd.DataFrame, table: pd.DataFrame
) -> Figure:
    """Draw each ROI's estimated against true per-subject amplitudes.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``roi_contrasts.tsv``; its ``independent`` rows are drawn.
    truth : pandas.DataFrame
        ``participants_truth.tsv`` (``participant_id``, ``true_<roi>``).
    table : pandas.DataFrame
        From :func:`empathy_fmri.evaluation.validation.amplitude_recovery`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per ROI: subjects as points, the identity line (perfect
        recovery), the least-squares line, and r, bias, RMSE and slope.
    """
    estimates = estimates[estimates["selection"] == "independent"]
    rows = table[table["selection"] == "independent"].set_index("roi")
    rois = list(dict.fromkeys(estimates["roi"]))
    truth = truth.set_index("participant_id")
    with figure_style():
        n_cols = min(len(rois), 5)
        n_rows = int(np.ceil(len(rois) / n_cols))
        figure = Figure(figsize=(2.7 * n_cols + 0.6, 2.9 * n_rows + 0.7), layout="constrained")
        axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False).ravel())
        for k, roi in enumerate(rois):
            ax = axes[k]
            values = estimates[estimates["roi"] == roi].set_index("participant_id")
            common = values.index.intersection(truth.index)
            x = truth.loc[common, f"true_{roi}"].to_numpy(float)
            y = values.loc[common, "needle_minus_swab"].to_numpy(float)
            low = float(min(x.min(), y.min()))
            high = float(max(x.max(), y.max()))
            pad = 0.08 * (high - low + 1e-9)
            span = np.array([low - pad, high + pad])
            ax.plot(span, span, color="0.55", lw=1, ls="--")
            row = rows.loc[roi]
            if np.isfinite(row["slope"]):
                ax.plot(span, row["slope"] * span + row["intercept"], color=roi_colour(k), lw=1.5)
            ax.scatter(x, y, s=20, color=roi_colour(k), ec="white", lw=0.4, zorder=3)
            ax.set_xlim(span)
            ax.set_ylim(span)
            ax.set_aspect("equal")
            ax.set_title(roi)
            ax.text(
                0.03,
                0.97,
                f"r = {row['r']:.2f}\nbias = {row['bias']:+.2f} psc\nRMSE = {row['rmse']:.2f} psc"
                f"\nslope = {row['slope']:.2f}",
                transform=ax.transAxes,
                va="top",
                ha="left",
                fontsize=8,
            )
            ax.set_xlabel("true amplitude (psc)")
            if k % n_cols == 0:
                ax.set_ylabel("estimated amplitude (psc)")
        for ax in axes[len(rois) :]:
            ax.set_visible(False)
        handles = [
            Line2D([], [], color="0.55", ls="--", label="perfect recovery (identity)"),
            Line2D([], [], color="0.2", lw=1.5, label="least-squares fit"),
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        figure.suptitle("Needle-minus-swab amplitude per subject: a-priori ROI estimate vs. truth")
    return figure


def _map_categories(
    significant: np.ndarray, union: np.ndarray, brain: np.ndarray, distance_ok: np.ndarray
) -> np.ndarray:
    labels = np.zeros(brain.shape, np.int8)
    labels[union & significant] = 1
    labels[union & ~significant] = 2
    labels[~union & significant & brain] = 3
    labels[~union & significant & brain & distance_ok] = 4
    return labels


def plot_map_accuracy(
    significant: Mapping[str, np.ndarray],
    true_union: np.ndarray,
    brain: np.ndarray,
    affine: np.ndarray,
    near_margin_mm: float,
    table: pd.DataFrame,
    n_slices: int = 6,
) -> Figure:
    """Draw axial slices of true, missed and false-positive voxels per threshold.

    Parameters
    ----------
    significant : mapping of str to numpy.ndarray
        Threshold name to the boolean map of active voxels.
    true_union : numpy.ndarray
        Boolean 3D mask of the truly active voxels.
    brain : numpy.ndarray
        Boolean 3D analysis mask.
    affine : numpy.ndarray
        Voxel-to-MNI affine.
    near_margin_mm : float
        Margin between "near" and "distant" false positives.
    table : pandas.DataFrame
        From :func:`empathy_fmri.evaluation.validation.run_map_validation` (for the titles).
    n_slices : int
        Axial slices per threshold, spread over the true regions.

    Returns
    -------
    matplotlib.figure.Figure
        One row per threshold, one column per slice.
    """
    from scipy import ndimage

    voxel = float(abs(affine[0, 0]))
    if true_union.any():
        distance = ndimage.distance_transform_edt(~true_union, sampling=voxel)
        z_index = np.nonzero(true_union.any(axis=(0, 1)))[0]
    else:
        distance = np.full(brain.shape, np.inf)
        z_index = np.nonzero(brain.any(axis=(0, 1)))[0]
    slices = np.unique(np.linspace(z_index.min(), z_index.max(), n_slices).round().astype(int))
    colours = list(MAP_CATEGORY_COLOURS.values())
    cmap = ListedColormap(colours)
    thresholds = list(significant)
    with figure_style():
        figure = Figure(
            figsize=(1.75 * len(slices) + 0.4, 2.15 * len(thresholds) + 1.0), layout="constrained"
        )
        axes = figure.subplots(len(thresholds), len(slices), squeeze=False)
        for i, threshold in enumerate(thresholds):
            labels = _map_categories(
                significant[threshold], true_union, brain, distance > near_margin_mm
            )
            rows = table[table["threshold"] == threshold].set_index("region")
            for j, z in enumerate(slices):
                ax = axes[i, j]
                ax.imshow(
                    np.rot90(brain[:, :, z]), cmap="Greys", vmin=0, vmax=4, interpolation="nearest"
                )
                overlay = np.rot90(labels[:, :, z]).astype(float)
                overlay[overlay == 0] = np.nan
                ax.imshow(
                    overlay - 1,
                    cmap=cmap,
                    vmin=-0.5,
                    vmax=len(colours) - 0.5,
                    interpolation="nearest",
                )
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                z_mm = float((affine @ np.array([0, 0, z, 1]))[2])
                ax.set_title(f"z = {z_mm:.0f} mm", fontsize=8)
            true = rows.loc["all_true"]
            outside = rows.loc["outside"]
            axes[i, 0].set_ylabel(
                f"{threshold.upper()}\nsens. {100 * true['share_detected']:.0f}%, "
                f"FP {int(outside['n_detected'])}",
                fontsize=9,
            )
        handles = [Patch(color=c, label=name) for name, c in MAP_CATEGORY_COLOURS.items()]
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=2,
            frameon=False,
            title=f"near = within {near_margin_mm:g} mm of a true region",
        )
        figure.suptitle("Group map vs. true activation (needle > swab; left of image = left)")
    return figure


def plot_correlation_recovery(table: pd.DataFrame) -> Figure:
    """Forest plot of every brain-behaviour r against its population and attenuated value.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`empathy_fmri.evaluation.validation.correlation_recovery`.

    Returns
    -------
    matplotlib.figure.Figure
        One row per ROI x score: the estimated r with its 95% CI for each
        ROI selection (points), the population r (solid bar) and the r expected
        after attenuation by measurement error (dashed bar), the convention
        of :data:`~empathy_fmri.plotting.style.POPULATION_LINE` and
        :data:`~empathy_fmri.plotting.style.ATTENUATED_LINE`.
    """
    pairs = list(dict.fromkeys(zip(table["score"], table["roi"], strict=True)))
    selections = [s for s in SELECTION_LABELS if s in set(table["selection"])]
    with figure_style():
        figure = Figure(figsize=(7.5, 0.32 * len(pairs) + 1.9), layout="constrained")
        ax = figure.subplots()
        offsets = np.linspace(-0.15, 0.15, len(selections)) if len(selections) > 1 else [0.0]
        for y, (score, roi) in enumerate(pairs):
            rows = table[(table["score"] == score) & (table["roi"] == roi)]
            for offset, selection in zip(offsets, selections, strict=True):
                row = rows[rows["selection"] == selection]
                if row.empty:
                    continue
                row = row.iloc[0]
                ax.errorbar(
                    row["r"],
                    y + offset,
                    xerr=[[row["r"] - row["ci_low"]], [row["ci_high"] - row["r"]]],
                    fmt="o",
                    ms=4,
                    color=SELECTION_COLOURS[selection],
                    lw=1.2,
                    capsize=0,
                )
            first = rows.iloc[0]
            ax.plot([first["r_population"]] * 2, [y - 0.38, y + 0.38], **POPULATION_LINE)
            ax.plot(
                [first["r_attenuated"]] * 2,
                [y - 0.38, y + 0.38],
                dashes=(2.0, 1.2),
                **{**ATTENUATED_LINE, "ls": None},
            )
        ax.axvline(0, color="0.6", lw=0.8, zorder=0)
        ax.set_yticks(range(len(pairs)), [f"{roi} \u2013 {score}" for score, roi in pairs])
        ax.invert_yaxis()
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Pearson r (ROI needle-minus-swab effect vs. behavioural score)")
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                color=SELECTION_COLOURS[s],
                label=f"{SELECTION_LABELS[s]}, 95% CI",
            )
            for s in selections
        ]
        handles += [
            Line2D([], [], label=POPULATION_LABEL, **POPULATION_LINE),
            Line2D([], [], label=ATTENUATED_LABEL, **ATTENUATED_LINE),
        ]
        figure.legend(
            handles=handles, loc="outside lower center", ncols=2, frameon=False, fontsize=8
        )
        figure.suptitle("Brain-behaviour correlations of this study vs. the truth")
    return figure
