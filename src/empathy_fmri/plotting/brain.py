"""Brain figures: the ROIs on the MNI template and the group z map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import nibabel as nib
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from nilearn import datasets
from nilearn.plotting import plot_glass_brain, plot_roi, plot_stat_map
from nilearn.plotting.displays import BaseSlicer

from empathy_fmri.plotting.style import DIVERGING_CMAP, POSITIVE_CMAP, figure_style, roi_colour

__all__ = [
    "one_sided_range",
    "plot_group_map",
    "plot_rois",
    "roi_mask_images",
]


def roi_mask_images(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    reference_img: nib.Nifti1Image,
    grey_matter_threshold: float,
    disjoint: bool = True,
) -> dict[str, nib.Nifti1Image]:
    """ROI masks as the analysis builds them, as images on a reference grid.

    Spheres around the centres intersected with grey matter, through
    :func:`empathy_fmri.analysis.roi.roi_masks` and
    :func:`empathy_fmri.anatomy.template.grey_matter_on`, so a figure outlines the very
    voxels that were averaged.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        Sphere centres (MNI mm).
    radius_mm : float
        Sphere radius (mm).
    reference_img : nibabel.Nifti1Image
        An image on the analysis grid (e.g. the group z map).
    grey_matter_threshold : float
        Grey-matter probability threshold (config ``anatomy``).
    disjoint : bool
        True for the a-priori ROIs (a voxel in two spheres goes to the nearer
        centre), False for data-selected ones.

    Returns
    -------
    dict of str to nibabel.Nifti1Image
        A binary ``uint8`` mask per ROI.
    """
    from empathy_fmri.anatomy.spheres import sphere_masks
    from empathy_fmri.anatomy.template import grey_matter_on

    grey = grey_matter_on(reference_img, grey_matter_threshold)
    affine = reference_img.affine
    if disjoint:
        masks = sphere_masks(centres_mm, radius_mm, affine, grey)
    else:
        masks = {
            name: sphere_masks({name: centre}, radius_mm, affine, grey)[name]
            for name, centre in centres_mm.items()
        }
    return {
        name: nib.Nifti1Image(mask.astype(np.uint8), reference_img.affine)
        for name, mask in masks.items()
    }


def _cut_coords(values: Sequence[float], min_gap_mm: float = 6.0) -> list[float]:
    """Sorted slice positions, merging positions closer than ``min_gap_mm``."""
    cuts: list[list[float]] = []
    for value in sorted(float(v) for v in values):
        if cuts and value - cuts[-1][-1] < min_gap_mm:
            cuts[-1].append(value)
        else:
            cuts.append([value])
    return [float(np.mean(group)) for group in cuts]


def _label_image(masks: Mapping[str, nib.Nifti1Image]) -> nib.Nifti1Image:
    """One integer image: ROI k (config order) has label k + 1."""
    first = next(iter(masks.values()))
    labels = np.zeros(first.shape, dtype=np.int16)
    for k, mask in enumerate(masks.values()):
        labels[np.asarray(mask.dataobj) > 0] = k + 1
    return nib.Nifti1Image(labels, first.affine)


def _template() -> nib.Nifti1Image:
    """nilearn's MNI152 T1 template at 1 mm (shipped, no download)."""
    return datasets.load_mni152_template(resolution=1)


def _label_slices(
    display: BaseSlicer, centres_mm: Mapping[str, Sequence[float]], axis: str
) -> None:
    """Write each ROI's name beside it on the slice nearest its centre."""
    index = "xyz".index(axis)
    in_plane = [i for i in range(3) if i != index]
    for name, centre in centres_mm.items():
        cuts = list(display.axes)
        nearest = min(cuts, key=lambda c: abs(c - centre[index]))
        if abs(nearest - centre[index]) > 8:
            continue
        ax = display.axes[nearest].ax
        ax.annotate(
            name,
            (centre[in_plane[0]], centre[in_plane[1]]),
            xytext=(0, 11),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": 0.6},
        )


def plot_rois(
    masks: Mapping[str, nib.Nifti1Image],
    centres_mm: Mapping[str, Sequence[float]],
    title: str = "Regions of interest on the MNI152 template",
) -> Figure:
    """Draw labelled ROIs on axial and sagittal slices of the MNI152 template.

    Parameters
    ----------
    masks : mapping of str to nibabel.Nifti1Image
        Binary mask per ROI, e.g. from :func:`roi_mask_images`.
    centres_mm : mapping of str to (x, y, z)
        ROI centres (MNI mm): slices are cut through them and the names
        written beside them.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Axial slices (top), sagittal slices (bottom) and a legend naming
        every ROI with its centre.
    """
    if not masks:
        raise ValueError("masks is empty: give at least one ROI")
    names = list(masks)
    colours = [roi_colour(k) for k in range(len(names))]
    labels = _label_image(masks)
    cmap = ListedColormap(colours)
    template = _template()
    with figure_style():
        figure = Figure(figsize=(11, 6.6))
        for row, axis in enumerate(["z", "x"]):
            ax = figure.add_axes((0.0, 0.53 - 0.43 * row, 1.0, 0.4))
            cuts = _cut_coords([centres_mm[n]["xyz".index(axis)] for n in names])
            display = plot_roi(
                labels,
                bg_img=template,
                display_mode=axis,
                cut_coords=cuts,
                axes=ax,
                figure=figure,
                cmap=cmap,
                vmin=0.5,
                vmax=len(names) + 0.5,
                alpha=0.9,
                colorbar=False,
                draw_cross=False,
                black_bg=True,
                annotate=True,
                resampling_interpolation="nearest",
            )
            _label_slices(display, {n: centres_mm[n] for n in names}, axis)
        handles = [
            Patch(
                facecolor=colour,
                edgecolor="none",
                label=f"{name} ({', '.join(f'{c:g}' for c in centres_mm[name])})",
            )
            for name, colour in zip(names, colours, strict=True)
        ]
        figure.legend(
            handles=handles,
            loc="lower center",
            ncols=min(len(names), 5),
            frameon=False,
            title="ROI (MNI centre x, y, z in mm)",
            bbox_to_anchor=(0.5, 0.0),
        )
        figure.suptitle(title, y=0.99)
    return figure


def one_sided_range(values: np.ndarray, step: float = 0.1, n_ticks: int = 5) -> tuple[float, float]:
    """Colour range of a one-sided map: from its lowest to its highest shown value.

    The lower limit is rounded down to ``step``; the width is a multiple of
    ``(n_ticks - 1) * step`` and at least twice that, so that the colour
    bar's evenly spaced ticks fall on multiples of ``step`` and a map whose
    voxels all have about the same z (a single surviving voxel, say) still
    gets a readable bar.

    Parameters
    ----------
    values : numpy.ndarray
        The shown (non-zero, finite) values, all positive.
    step : float
        Rounding step of the limits and ticks.
    n_ticks : int
        Ticks of the colour bar (nilearn places them evenly, ends included).

    Returns
    -------
    (float, float)
        ``vmin >= 0`` and ``vmax > vmin``.
    """
    low = max(float(np.floor(values.min() / step + 1e-9) * step), 0.0)
    unit = (n_ticks - 1) * step
    width = max(np.ceil((float(values.max()) - low) / unit - 1e-9), 2) * unit
    return round(low, 10), round(low + float(width), 10)


def plot_group_map(
    z_img: nib.Nifti1Image,
    masks: Mapping[str, nib.Nifti1Image],
    threshold: float,
    title: str = "Group needle - swab z map",
    cut_coords_z: Sequence[float] | None = None,
    one_sided: bool = False,
) -> Figure:
    """Draw a group z map as a glass brain and axial slices, ROIs outlined.

    Parameters
    ----------
    z_img : nibabel.Nifti1Image
        z map, signed (positive: needle > swab); an FWE-thresholded map is
        zero below threshold.
    masks : mapping of str to nibabel.Nifti1Image
        ROI masks, drawn as coloured outlines.
    threshold : float
        Voxels with ``|z|`` below it are not coloured.
    title : str
        Figure title.
    cut_coords_z : sequence of float, optional
        Axial slice positions (mm); by default through the ROI centres of
        mass.
    one_sided : bool
        The map is of a one-sided test (needle > swab): only positive z can
        be shown, on a sequential colour scale from the lowest to the highest
        z shown (:func:`one_sided_range`). False: a diverging scale symmetric
        around zero, for a map with both signs.

    Returns
    -------
    matplotlib.figure.Figure
        Glass brain (top) and axial slices (bottom).

    Raises
    ------
    ValueError
        If ``threshold`` is negative, or ``one_sided`` and a negative value
        reaches the threshold.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be non-negative, got {threshold}")
    data = np.nan_to_num(np.asarray(z_img.dataobj, dtype=float))
    shown = np.abs(data) >= max(threshold, 1e-6)
    if one_sided:
        if (data[shown] < 0).any():
            raise ValueError(
                "one_sided map has negative values at or beyond the threshold; "
                "a one-sided (needle > swab) map shows positive z only"
            )
        vmin, vmax = (
            one_sided_range(data[shown]) if shown.any() else (0.0, max(threshold, 1.0) + 1.0)
        )
        colours_of_z = {"cmap": POSITIVE_CMAP, "vmin": vmin, "vmax": vmax, "symmetric_cbar": False}
        meaning = "colour = z (needle > swab; one-sided test)"
    else:
        vmax = float(np.abs(data[shown]).max()) if shown.any() else max(threshold, 1.0) + 1.0
        colours_of_z = {"cmap": DIVERGING_CMAP, "vmin": -vmax, "vmax": vmax, "symmetric_cbar": True}
        meaning = "colour = z (needle > swab red, swab > needle blue)"
    if cut_coords_z is None:
        centres = [_centre_of_mass(mask) for mask in masks.values()]
        cut_coords_z = _cut_coords([c[2] for c in centres]) if centres else [0.0, 15.0, 30.0]
    colours = {name: roi_colour(k) for k, name in enumerate(masks)}
    template = _template()
    with figure_style():
        figure = Figure(figsize=(11, 7.4))
        glass_ax = figure.add_axes((0.0, 0.5, 1.0, 0.42))
        glass = plot_glass_brain(
            z_img,
            display_mode="lyrz",
            threshold=threshold,
            plot_abs=False,
            colorbar=True,
            axes=glass_ax,
            figure=figure,
            annotate=True,
            cbar_tick_format="%.1f",
            **colours_of_z,
        )
        slice_ax = figure.add_axes((0.0, 0.1, 1.0, 0.38))
        slices = plot_stat_map(
            z_img,
            bg_img=template,
            display_mode="z",
            cut_coords=list(cut_coords_z),
            threshold=threshold,
            colorbar=True,
            axes=slice_ax,
            figure=figure,
            draw_cross=False,
            black_bg=True,
            annotate=True,
            cbar_tick_format="%.1f",
            **colours_of_z,
        )
        for display in (glass, slices):
            for name, mask in masks.items():
                display.add_contours(mask, levels=[0.5], colors=[colours[name]], linewidths=1.6)
        handles = [
            Patch(facecolor="none", edgecolor=colour, linewidth=1.6, label=name)
            for name, colour in colours.items()
        ]
        note = "" if shown.any() else "  (no voxel survives the threshold)"
        figure.legend(
            handles=handles,
            loc="lower center",
            ncols=max(len(handles), 1),
            frameon=False,
            title=f"ROI outlines; {meaning}{note}",
            bbox_to_anchor=(0.5, 0.0),
        )
        figure.suptitle(title, y=0.99)
    return figure


def _centre_of_mass(mask: nib.Nifti1Image) -> np.ndarray:
    """Centre of mass of a binary mask (MNI mm)."""
    ijk = np.argwhere(np.asarray(mask.dataobj) > 0).mean(axis=0)
    return mask.affine[:3, :3] @ ijk + mask.affine[:3, 3]
