"""Figure of what the first level removes of each simulated noise component.

The other figures that grade the analysis against the truth are in
:mod:`~empathy_fmri.plotting.recovery` (amplitudes, maps, correlations) and
:mod:`~empathy_fmri.plotting.selections`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from empathy_fmri.plotting.style import figure_style

__all__ = [
    "plot_noise_removal",
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
        axes.barh(
            y + 0.2,
            summary["variance_psc2"],
            height=0.4,
            color="#bbbbbb",
            label="in the data (mean removed)",
        )
        axes.barh(
            y - 0.2,
            summary["remaining_psc2"],
            height=0.4,
            color="#1f77b4",
            label="left after the first-level design (blue number)",
        )
        for position, (_, row) in zip(y, summary.iterrows(), strict=True):
            axes.text(
                row["variance_psc2"],
                position + 0.2,
                f"  {row['share_remaining']:.1%} left",
                va="center",
                fontsize=8,
            )
            # a residual too small to see as a bar is still written out
            axes.text(
                row["remaining_psc2"],
                position - 0.2,
                f"  {row['remaining_psc2']:.2g}",
                va="center",
                fontsize=7,
                color="#1f77b4",
            )
        axes.set_yticks(y, labels)
        axes.invert_yaxis()
        axes.set_xlabel("variance per grey-matter voxel (percent signal change squared)")
        axes.set_xlim(0, 1.35 * float(summary["variance_psc2"].max()))
        axes.legend(loc="upper right", fontsize=8)
        axes.set_title(title)
        figure.tight_layout()
    return figure
