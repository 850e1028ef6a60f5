"""Simulate one subject in memory: truth, BOLD images, events, confounds and behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nibabel as nib
import pandas as pd

from empathy_fmri.config.sections import SimulationConfig
from empathy_fmri.io.bids import bold_image
from empathy_fmri.simulation.population import SubjectTruth, draw_subject, subject_behaviour
from empathy_fmri.simulation.subject import SimulatedRun, SimulationSpace, simulate_subject
from empathy_fmri.simulation.tissue_signals import tissue_signals

__all__ = [
    "SimulatedSubject",
    "add_tissue_signals",
    "simulate_subject_data",
]


@dataclass
class SimulatedSubject:
    """One simulated participant, as the BIDS dataset will hold it, and its truth.

    Attributes
    ----------
    truth : SubjectTruth
        Latent trait, true amplitudes, D/U, HRF.
    runs : list of SimulatedRun
        Arrays, events, confounds and noise parameters of every run; the
        confounds hold fMRIPrep's tissue signals of the run's image, then
        the motion columns.
    images : list of nibabel.Nifti1Image
        Each run's BOLD image (int16 with scaling, as written to BIDS).
    behaviour : dict
        Dilemma responses and their scores (a row of the phenotype file).
    """

    truth: SubjectTruth
    runs: list[SimulatedRun]
    images: list[nib.Nifti1Image]
    behaviour: dict[str, Any]

    @property
    def events(self) -> list[pd.DataFrame]:
        """Each run's events."""
        return [run.events for run in self.runs]

    @property
    def confounds(self) -> list[pd.DataFrame]:
        """Each run's confounds (fMRIPrep columns)."""
        return [run.confounds for run in self.runs]


def simulate_subject_data(
    simulation: SimulationConfig, subject_index: int, n_subjects: int, space: SimulationSpace
) -> SimulatedSubject:
    """Simulate every run and the dilemma task of one participant.

    Parameters
    ----------
    simulation : SimulationConfig
        The simulation's sections.
    subject_index : int
        Zero-based subject index (selects the random streams).
    n_subjects : int
        Participants in the study (sets the label width).
    space : SimulationSpace
        From :func:`empathy_fmri.simulation.subject.build_space`.

    Returns
    -------
    SimulatedSubject
    """
    truth = draw_subject(simulation, subject_index, n_subjects)
    runs = simulate_subject(simulation, subject_index, truth, space)
    images = [
        bold_image(run.bold, space.mask, space.anatomy.affine, float(simulation.design.tr))
        for run in runs
    ]
    for run, image in zip(runs, images, strict=True):
        add_tissue_signals(run, image, space)
    behaviour = subject_behaviour(simulation.seed, simulation.behaviour, subject_index, truth)
    return SimulatedSubject(truth, runs, images, behaviour)


def add_tissue_signals(run: SimulatedRun, image: nib.Nifti1Image, space: SimulationSpace) -> None:
    """Put fMRIPrep's tissue signals of a run's image before its motion confounds.

    Parameters
    ----------
    run : SimulatedRun
        The run; its ``confounds`` gain ``global_signal``, ``csf``,
        ``white_matter`` (with derivatives and squares) and ``csf_wm``.
    image : nibabel.Nifti1Image
        The run's BOLD image as written
        (:func:`empathy_fmri.io.bids.bold_image` of ``run.bold``): the means
        are of the stored values, as a reader of the file computes them.
    space : SimulationSpace
        Its :attr:`~empathy_fmri.simulation.subject.SimulationSpace.tissue_masks`.
    """
    run.confounds = pd.concat([tissue_signals(image, space.tissue_masks), run.confounds], axis=1)
