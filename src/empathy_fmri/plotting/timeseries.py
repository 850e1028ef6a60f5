"""One subject's data: an ROI's BOLD time series with the GLM fit over it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from empathy_fmri.plotting.style import CONDITION_COLOURS, figure_style

__all__ = [
    "plot_roi_timeseries",
]


def plot_roi_timeseries(
    runs: Sequence[pd.DataFrame],
    events: Sequence[pd.DataFrame],
    roi: str,
    title: str | None = None,
) -> Figure:
    """Draw an ROI's time series and model fit per run, task blocks shaded.

    Parameters
    ----------
    runs : sequence of pandas.DataFrame
        One table per run from :func:`fit_roi_timeseries`; its
        ``attrs["r_squared_task"]``, if present, is written in the panel title.
    events : sequence of pandas.DataFrame
        BIDS events of each run (``onset``, ``duration``, ``trial_type``).
    roi : str
        ROI name, for the labels.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run: the measured signal after removing drift and
        motion (grey), the fitted task model (black), needle and swab blocks
        shaded.
    """
    if len(runs) == 0 or len(runs) != len(events):
        raise ValueError(
            f"runs and events must be non-empty and of equal length, got {len(runs)} "
            f"and {len(events)}"
        )
    with figure_style():
        figure = Figure(figsize=(10, 1.0 + 2.4 * len(runs)), layout="constrained")
        axes = figure.subplots(len(runs), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
        for run, (table, run_events, ax) in enumerate(
            zip(runs, events, axes, strict=True), start=1
        ):
            for row in run_events.itertuples():
                ax.axvspan(
                    row.onset,
                    row.onset + row.duration,
                    lw=0,
                    alpha=0.18,
                    color=CONDITION_COLOURS.get(row.trial_type, "0.5"),
                )
            ax.plot(table["time_s"], table["cleaned_psc"], color="0.45", lw=1.0, marker="o", ms=2.2)
            ax.plot(table["time_s"], table["task_psc"], color="black", lw=1.8)
            r_squared = table.attrs.get("r_squared_task")
            label = f"run {run}" + (
                f"   (the black line explains R\u00b2 = {r_squared:.2f} of the grey points'"
                " variance)"
                if r_squared is not None
                else ""
            )
            ax.set_title(label, loc="left", fontsize=10)
            ax.set_ylabel("BOLD change from\nfixation (%)")
            ax.axhline(0, color="0.7", lw=0.6)
        axes[-1].set_xlabel("time from run start (s)")
        axes[0].set_xlim(0, max(float(t["time_s"].max()) for t in runs))
        handles = [
            Line2D(
                [],
                [],
                color="0.45",
                marker="o",
                ms=3,
                lw=1.0,
                label=f"{roi} mean signal (drift, motion, baseline removed)",
            ),
            Line2D([], [], color="black", lw=1.8, label="fitted needle + swab model"),
            *[
                Patch(facecolor=colour, alpha=0.3, label=f"{condition} block")
                for condition, colour in CONDITION_COLOURS.items()
            ],
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
        figure.suptitle(title or f"{roi}: BOLD time series and GLM fit")
    return figure
