"""Whole-brain brain-behaviour figure: a glass brain of the r map where FWE survives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from nilearn.plotting import plot_glass_brain

from empathy_fmri.plotting.style import DIVERGING_CMAP, figure_style

__all__ = [
    "fwe_r_map",
    "plot_behaviour_map",
]


def fwe_r_map(
    r_img: nib.Nifti1Image, logp_fwe_img: nib.Nifti1Image, alpha: float
) -> nib.Nifti1Image:
    """The r map where the FWE p value is below ``alpha``, zero elsewhere.

    Parameters
    ----------
    r_img : nibabel.Nifti1Image
        Voxelwise Pearson r.
    logp_fwe_img : nibabel.Nifti1Image
        -log10 FWE p values on the same grid.
    alpha : float
        FWE level.

    Returns
    -------
    nibabel.Nifti1Image
        float32.
    """
    r = np.nan_to_num(np.asarray(r_img.dataobj, dtype=float))
    significant = np.asarray(logp_fwe_img.dataobj, dtype=float) > -np.log10(alpha)
    return nib.Nifti1Image(np.where(significant, r, 0.0).astype(np.float32), r_img.affine)


def plot_behaviour_map(
    r_fwe_img: nib.Nifti1Image,
    title: str,
    roi_centres_mm: Mapping[str, Sequence[float]] | None = None,
) -> Figure:
    """Draw an FWE-thresholded r map as a glass brain on a fixed, two-sided scale.

    Parameters
    ----------
    r_fwe_img : nibabel.Nifti1Image
        r where FWE survives, zero elsewhere (:func:`fwe_r_map`).
    title : str
        Figure title (the score and n).
    roi_centres_mm : mapping of str to (x, y, z), optional
        A-priori ROI centres, marked for orientation.

    Returns
    -------
    matplotlib.figure.Figure
        Glass brain (left, front, right, top) coloured from r = -1 (blue) to
        +1 (red), with a legend saying how many voxels survive.
    """
    data = np.nan_to_num(np.asarray(r_fwe_img.dataobj, dtype=float))
    n_shown = int((data != 0).sum())
    with figure_style():
        figure = Figure(figsize=(11, 3.9))
        ax = figure.add_axes((0.0, 0.12, 1.0, 0.76))
        display = plot_glass_brain(
            r_fwe_img,
            display_mode="lyrz",
            threshold=1e-6,
            plot_abs=False,
            cmap=DIVERGING_CMAP,
            vmin=-1.0,
            vmax=1.0,
            symmetric_cbar=True,
            colorbar=True,
            axes=ax,
            figure=figure,
            annotate=True,
        )
        handles = []
        if roi_centres_mm:
            centres = np.asarray(list(roi_centres_mm.values()), float)
            display.add_markers(centres, marker_color="black", marker_size=18)
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    color="black",
                    markersize=4,
                    label="a-priori ROI centres",
                )
            )
        note = (
            f"colour = Pearson r in the {n_shown} voxels that survive FWE "
            "(higher score with larger needle - swab effect red, smaller blue)"
            if n_shown
            else "no voxel survives FWE"
        )
        figure.legend(
            handles=handles,
            loc="lower center",
            frameon=False,
            title=note,
            bbox_to_anchor=(0.5, 0.0),
            ncols=1,
        )
        figure.suptitle(title, y=0.99)
    return figure
