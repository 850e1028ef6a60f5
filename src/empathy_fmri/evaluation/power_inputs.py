"""The inputs of a run's power table, saved beside it so that any part can be recomputed.

``results/power/power.tsv`` is :func:`~empathy_fmri.evaluation.monte_carlo.power_table`
of the population model (config sections ``signal`` and ``behaviour``, the
seed, ``analysis.rois`` and ``analysis.scores``), the power settings and the
measurement model calibrated on the run (``measurement_model.tsv``). The
power job writes the settings it used to ``power_settings.json``;
:meth:`PowerInputs.read` reads both files back, so that a notebook or a figure
computes power with the very function and random streams of the table
(:meth:`PowerInputs.table` returns the table's rows exactly) instead of a
model of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import BehaviourConfig, PowerConfig, SignalConfig
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.monte_carlo import PopulationModel, power_table, simulate_studies

__all__ = [
    "MEASUREMENT_FILE",
    "SETTINGS_FILE",
    "TABLE_FILE",
    "PowerInputs",
    "power_settings",
]

#: File names inside the power folder (``results/power``).
SETTINGS_FILE = "power_settings.json"
MEASUREMENT_FILE = "measurement_model.tsv"
TABLE_FILE = "power.tsv"


def power_settings(
    seed: int,
    signal: Mapping[str, Any],
    rois: Sequence[str],
    behaviour: Mapping[str, Any],
    scores: Sequence[str],
    power: Mapping[str, Any],
    n_subjects: int,
) -> dict[str, Any]:
    """Collect the config values a power table depends on, as plain JSON-ready data.

    Parameters
    ----------
    seed : int
        The study's master seed.
    signal, behaviour, power : mapping
        The config sections ``signal``, ``behaviour`` and ``power``.
    rois, scores : sequence of str
        ``analysis.rois`` (names, in order) and ``analysis.scores``.
    n_subjects : int
        The study's own sample size (always among the table's sizes).

    Returns
    -------
    dict
        Keys ``seed``, ``signal``, ``rois``, ``behaviour``, ``scores``,
        ``power``, ``n_subjects``.
    """
    return {
        "seed": int(seed),
        "signal": dict(signal),
        "rois": [str(name) for name in rois],
        "behaviour": dict(behaviour),
        "scores": [str(score) for score in scores],
        "power": dict(power),
        "n_subjects": int(n_subjects),
    }


@dataclass(frozen=True)
class PowerInputs:
    """Everything :func:`power_table` needs to make a run's ``power.tsv``.

    Attributes
    ----------
    population : PopulationModel
        Seed, ROI amplitude and behaviour models, scores.
    power : PowerConfig
        Sample sizes, studies per size, alpha, seed offset.
    n_subjects : int
        The study's own sample size.
    measurement : MeasurementModel
        The run's calibrated measurement model.
    """

    population: PopulationModel
    power: PowerConfig
    n_subjects: int
    measurement: MeasurementModel

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], measurement: MeasurementModel
    ) -> PowerInputs:
        """Build the inputs from :func:`power_settings` and a measurement model.

        Parameters
        ----------
        settings : mapping
            As returned by :func:`power_settings` (or read from its JSON file).
        measurement : MeasurementModel
            The calibrated measurement model.

        Returns
        -------
        PowerInputs
        """
        population = PopulationModel(
            seed=int(settings["seed"]),
            signal=SignalConfig.from_dict(settings["signal"]).for_rois(list(settings["rois"])),
            behaviour=BehaviourConfig.from_dict(settings["behaviour"]),
            scores=tuple(settings["scores"]),
        )
        return cls(
            population,
            PowerConfig.from_dict(settings["power"]),
            int(settings["n_subjects"]),
            measurement,
        )

    @classmethod
    def read(cls, power_dir: str | Path) -> PowerInputs:
        """Read the inputs a run's power job used from its folder.

        Parameters
        ----------
        power_dir : path
            The run's power folder (``results/power``), holding
            :data:`SETTINGS_FILE` and :data:`MEASUREMENT_FILE`.

        Returns
        -------
        PowerInputs
        """
        power_dir = Path(power_dir)
        settings_path = power_dir / SETTINGS_FILE
        if not settings_path.is_file():
            raise FileNotFoundError(
                f"'{settings_path}' is missing: it is written with power.tsv by the rule "
                "power_monte_carlo (run snakemake --cores 4 to make it)"
            )
        settings = json.loads(settings_path.read_text())
        measurement = MeasurementModel.from_table(
            pd.read_csv(power_dir / MEASUREMENT_FILE, sep="\t")
        )
        return cls.from_settings(settings, measurement)

    @property
    def sample_sizes(self) -> list[int]:
        """The table's sample sizes: ``power.sample_sizes`` and the study's own (if at least 4)."""
        own = [self.n_subjects] if self.n_subjects >= 4 else []
        return sorted({*(int(n) for n in self.power.sample_sizes), *own})

    def table(self, sample_sizes: Sequence[int] | None = None) -> pd.DataFrame:
        """The power table, or its rows at some sample sizes (identical to the full table's).

        Parameters
        ----------
        sample_sizes : sequence of int, optional
            Sizes wanted (any size of at least 4); :attr:`sample_sizes` if None.

        Returns
        -------
        pandas.DataFrame
            :func:`~empathy_fmri.evaluation.monte_carlo.power_table`.
        """
        sizes = self.sample_sizes if sample_sizes is None else list(sample_sizes)
        return power_table(
            self.population,
            sizes,
            self.power.n_studies,
            self.measurement,
            self.power.alpha,
            self.power.seed_offset,
        )

    def studies(self, n_subjects: int) -> np.ndarray:
        """The simulated studies behind the table's rows at one sample size.

        Parameters
        ----------
        n_subjects : int
            Participants per study.

        Returns
        -------
        numpy.ndarray
            ``(n_studies, n_rois, n_scores)`` r, ROIs and scores in the
            population model's order
            (:func:`~empathy_fmri.evaluation.monte_carlo.simulate_studies`).
        """
        return simulate_studies(
            self.population,
            n_subjects,
            self.power.n_studies,
            self.measurement,
            self.power.seed_offset,
        )

    def pair_index(self, roi: str, score: str) -> tuple[int, int]:
        """Position of one ROI x score pair in :meth:`studies`' last two axes."""
        rois, scores = list(self.population.signal.rois), list(self.population.scores)
        if roi not in rois or score not in scores:
            raise KeyError(f"no pair {roi} x {score}: ROIs {rois}, scores {scores}")
        return rois.index(roi), scores.index(score)
