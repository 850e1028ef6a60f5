"""Figure conventions shared by every plot: style, colours and saving.

The plotting functions live in one module per kind of figure
(:mod:`~empathy_fmri.plotting.design`, :mod:`~empathy_fmri.plotting.timeseries`,
:mod:`~empathy_fmri.plotting.brain`, :mod:`~empathy_fmri.plotting.stats`,
:mod:`~empathy_fmri.plotting.validation`). Each offers ``plot_<figure>``, which
takes data and returns a :class:`matplotlib.figure.Figure`, and
``figure_<figure>``, which reads the workflow's files, draws and saves.

Figures are built with matplotlib's object-oriented API (``Figure``, not
``pyplot``), so that drawing needs no display and changes no global backend:
files are written by the Agg renderer, and a notebook shows the returned
figure inline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from empathy_fmri.io.atomic import atomic_path

__all__ = [
    "CONDITION_COLOURS",
    "DIVERGING_CMAP",
    "DPI",
    "POSITIVE_CMAP",
    "ATTENUATED_LABEL",
    "ATTENUATED_LINE",
    "POPULATION_LABEL",
    "POPULATION_LINE",
    "ROI_COLOURS",
    "SELECTION_COLOURS",
    "SELECTION_LABELS",
    "figure_style",
    "roi_colour",
    "save_figure",
]

#: Resolution of every PNG (dots per inch): print quality.
DPI = 200

#: Colour map of signed statistics (z, t, effects): blue negative, red positive.
DIVERGING_CMAP = "RdBu_r"

#: Colour map of a one-sided (positive) statistic: red at the lowest value
#: shown, yellow at the highest; visible on a white glass brain and on black slices.
POSITIVE_CMAP = "autumn"

#: Colour of each task condition, in time lines and shaded blocks.
CONDITION_COLOURS = {"needle": "#d62728", "swab": "#1f77b4"}

#: ROI colours in config order: mostly Okabe & Ito (2008) colour-blind-safe ones,
#: avoiding the red and dark blue of the diverging map they are drawn over.
ROI_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#6A3D9A", "#D55E00", "#999999")

#: ROI selections of ``roi_contrasts.tsv`` and how figures name them.
SELECTION_LABELS = {
    "independent": "Independent ROI (a priori sphere)",
    "group_peak": "Group-peak ROI (sphere on the group z peak)",
    "behaviour_peak": "Behaviour-peak ROI (sphere on the peak |r| with the score)",
    "cross_validated": "Cross-validated ROI (peak |r| of the other half of the subjects)",
}

#: Colour of each ROI selection (Okabe & Ito).
SELECTION_COLOURS = {
    "independent": "#0072B2",
    "group_peak": "#E69F00",
    "behaviour_peak": "#D55E00",
    "cross_validated": "#009E73",
}

#: One convention for the truth in every figure that grades a correlation
#: (correlation recovery, selections, r by sample size, exaggeration): the
#: population r is a solid line, the attenuated r (what a study of this design
#: estimates on average) a dashed one, in the same grey (or in the ROI's colour
#: where colour names the ROI); this study's estimates are points.
POPULATION_LINE = {"color": "0.15", "lw": 1.6, "ls": "-"}
ATTENUATED_LINE = {"color": "0.15", "lw": 1.3, "ls": "--"}
POPULATION_LABEL = "population r (true amplitude vs. true score)"
ATTENUATED_LABEL = (
    "attenuated r: population r x sqrt(reliability of\nthe ROI estimate x reliability of the score)"
)

logger = logging.getLogger(__name__)

_RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "svg.fonttype": "none",
    # Reproducible files: SVG element ids are drawn from this salt instead of
    # a random one (matplotlib's default), so the same figure is the same file.
    "svg.hashsalt": "empathy-fmri",
}

#: No creation date in the files, so the same config gives byte-identical figures.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def roi_colour(index: int) -> str:
    """Colour of the ``index``-th ROI (cycles after seven ROIs).

    Parameters
    ----------
    index : int
        Position of the ROI in the config's ROI list.

    Returns
    -------
    str
        A hex colour.
    """
    return ROI_COLOURS[index % len(ROI_COLOURS)]


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply the project's matplotlib style for the duration of a ``with`` block."""
    with mpl.rc_context(_RC):
        yield


def save_figure(figure: Figure, paths: Sequence[str | Path], dpi: int = DPI) -> None:
    """Save a figure to each path atomically, the format taken from the suffix.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    paths : sequence of str or pathlib.Path
        Output files, e.g. a ``.png`` and an ``.svg``.
    dpi : int
        Resolution of raster formats.

    Raises
    ------
    ValueError
        If a path has no suffix matplotlib can write.
    """
    supported = figure.canvas.get_supported_filetypes()
    for path in paths:
        suffix = Path(path).suffix.lstrip(".").lower()
        if suffix not in supported:
            raise ValueError(
                f"paths: cannot save a figure as '{path}'; use one of {sorted(supported)}"
            )
    with figure_style():
        for path in paths:
            suffix = Path(path).suffix.lstrip(".").lower()
            with atomic_path(path) as temporary:
                figure.savefig(
                    temporary,
                    dpi=dpi,
                    format=suffix,
                    bbox_inches="tight",
                    metadata=_METADATA.get(suffix),
                )
            logger.info("wrote %s", path)
