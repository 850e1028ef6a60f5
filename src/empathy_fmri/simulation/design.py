"""Block design of the needle-versus-swab task."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import DesignConfig
from empathy_fmri.simulation.seeding import subject_rng
from empathy_fmri.task.conditions import CONDITIONS

__all__ = [
    "BlockDesign",
    "block_order",
    "run_events",
    "subject_events",
]


@dataclass(frozen=True)
class BlockDesign:
    """Timing of one run of the block design.

    Attributes
    ----------
    tr_s : float
        Repetition time (s).
    n_runs : int
        Runs per subject.
    blocks_per_condition : int
        Needle blocks (and swab blocks) per run.
    block_s, rest_s, lead_in_s, lead_out_s : float
        Block, fixation, initial and final fixation durations (s).
    order : str
        ``counterbalanced``, ``fixed`` or ``random``.
    """

    tr_s: float
    n_runs: int
    blocks_per_condition: int
    block_s: float
    rest_s: float
    lead_in_s: float = 10.0
    lead_out_s: float = 14.0
    order: str = "counterbalanced"

    @classmethod
    def from_config(cls, design: DesignConfig) -> BlockDesign:
        """Build from the ``design`` section of the config."""
        return cls(
            tr_s=float(design.tr),
            n_runs=int(design.n_runs),
            blocks_per_condition=int(design.blocks_per_condition),
            block_s=float(design.block_s),
            rest_s=float(design.rest_s),
            lead_in_s=float(design.lead_in_s),
            lead_out_s=float(design.lead_out_s),
            order=str(design.order),
        )

    @property
    def n_blocks(self) -> int:
        """Blocks per run, both conditions."""
        return 2 * self.blocks_per_condition

    @property
    def run_duration_s(self) -> float:
        """Duration of one run (s)."""
        return (
            self.lead_in_s
            + self.n_blocks * self.block_s
            + (self.n_blocks - 1) * self.rest_s
            + self.lead_out_s
        )

    @property
    def n_scans(self) -> int:
        """Volumes per run."""
        return int(math.ceil(self.run_duration_s / self.tr_s - 1e-9))

    @property
    def frame_times_s(self) -> np.ndarray:
        """Acquisition time of each volume (s), as nilearn assumes (slice_time_ref 0)."""
        return np.arange(self.n_scans) * self.tr_s


def block_order(
    design: BlockDesign, subject_index: int, run_index: int, rng: np.random.Generator
) -> list[str]:
    """Return the sequence of conditions of one run.

    Parameters
    ----------
    design : BlockDesign
        The design.
    subject_index : int
        Zero-based subject index (used for counterbalancing).
    run_index : int
        Zero-based run index.
    rng : numpy.random.Generator
        Used only for ``order == "random"``.

    Returns
    -------
    list of str
        ``design.n_blocks`` condition names.
    """
    n = design.blocks_per_condition
    if design.order == "random":
        return list(rng.permutation(np.repeat(CONDITIONS, n)))
    if design.order == "fixed":
        first = 0
    elif design.order == "counterbalanced":
        first = (subject_index + run_index) % 2
    else:
        raise ValueError(
            f"order must be 'counterbalanced', 'fixed' or 'random', got {design.order!r}"
        )
    return [CONDITIONS[(first + k) % 2] for k in range(2 * n)]


def run_events(design: BlockDesign, conditions: list[str]) -> pd.DataFrame:
    """Events of one run in BIDS form.

    Parameters
    ----------
    design : BlockDesign
        The design.
    conditions : list of str
        Condition of each block, e.g. from :func:`block_order`.

    Returns
    -------
    pandas.DataFrame
        Columns ``onset``, ``duration`` (s), ``trial_type`` and ``block``.
    """
    onsets = design.lead_in_s + np.arange(len(conditions)) * (design.block_s + design.rest_s)
    return pd.DataFrame(
        {
            "onset": onsets,
            "duration": np.full(len(conditions), design.block_s),
            "trial_type": conditions,
            "block": np.arange(1, len(conditions) + 1),
        }
    )


def subject_events(design: BlockDesign, seed: int, subject_index: int) -> list[pd.DataFrame]:
    """Events of every run of one subject, from the subject's ``design`` stream.

    The block order depends only on the design, the seed and the subject (a
    ``random`` order draws from the subject's own ``design`` stream, run after
    run), never on the signal or the noise: the simulator and the rule that
    writes the events files both call this.

    Parameters
    ----------
    design : BlockDesign
        The design.
    seed : int
        The study's master seed.
    subject_index : int
        Zero-based subject index.

    Returns
    -------
    list of pandas.DataFrame
        One :func:`run_events` table per run, in run order.
    """
    rng = subject_rng(seed, subject_index, "design")
    return [
        run_events(design, block_order(design, subject_index, run_index, rng))
        for run_index in range(design.n_runs)
    ]
