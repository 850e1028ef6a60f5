"""Independent, reproducible random streams per subject and purpose.

Each subject's generators are spawned from the master seed with
:class:`numpy.random.SeedSequence` ``spawn_key``s, so adding subject 20 leaves
subjects 1-19 unchanged, and switching a noise component off does not change
the draws of the others.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STREAMS",
    "subject_rng",
]

#: Purposes with a stream of their own, in a fixed order (their spawn key).
STREAMS = (
    "trait",
    "behaviour",
    "design",
    "hrf",
    "noise",
    "physio",
    "drift",
    "motion",
    "extra",
    "run_amplitude",
    "flinch",
)


def subject_rng(seed: int, subject_index: int, stream: str) -> np.random.Generator:
    """Return the random generator of one subject for one purpose.

    Parameters
    ----------
    seed : int
        The study's master seed.
    subject_index : int
        Zero-based subject index.
    stream : str
        One of :data:`STREAMS`.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator independent of every other (subject, stream) pair.
    """
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}, got {stream!r}")
    if subject_index < 0:
        raise ValueError(f"subject_index must be >= 0, got {subject_index}")
    sequence = np.random.SeedSequence(seed, spawn_key=(subject_index, STREAMS.index(stream)))
    return np.random.default_rng(sequence)
