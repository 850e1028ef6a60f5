"""Typed, frozen sections of a validated study configuration.

Functions of the library receive these instead of the raw config dict, so a
function's signature says which part of the study it depends on, and a
workflow rule passes exactly the sections its job uses (Snakemake then re-runs
a job only when one of those sections changes). Field names are the config
keys; see ``config.yaml`` for their meaning and units.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AnalysisConfig",
    "AnatomyConfig",
    "BehaviourConfig",
    "DesignConfig",
    "DilemmasConfig",
    "NoiseConfig",
    "PilotPowerConfig",
    "PowerConfig",
    "RegionsConfig",
    "ReplicatesConfig",
    "RoiSignal",
    "SignalConfig",
    "SimulationConfig",
    "StudyConfig",
    "ValidationConfig",
    "section_dict",
]


class _Section:
    """Build a section from its config mapping, and turn it back into one."""

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Any:
        """Build the section from its validated config mapping.

        Parameters
        ----------
        mapping : mapping
            The section as in a validated config (defaults filled in); keys
            that are not fields of the section are ignored.

        Returns
        -------
        The frozen section.
        """
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in mapping:
                values[field.name] = _convert(hints[field.name], mapping[field.name])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the section as a plain config mapping (lists for coordinates)."""
        return section_dict(self)


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, _Section):
        return hint.from_dict(value)
    if origin in (Mapping, dict) or (origin is not None and origin is Mapping):
        return {str(k): _convert(args[1], v) for k, v in dict(value).items()}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _convert(next(a for a in args if a is not type(None)), value)
    if hint is float:
        return float(value)
    if hint is int:
        return int(value)
    return value


def section_dict(value: Any) -> Any:
    """Turn a section (or anything inside one) back into plain config values.

    Parameters
    ----------
    value : object
        A section, mapping, tuple or scalar.

    Returns
    -------
    object
        Dicts, lists and scalars, as in a config read from YAML.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: section_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: section_dict(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [section_dict(v) for v in value]
    return value


Coordinate = tuple[float, float, float]


@dataclass(frozen=True)
class AnatomyConfig(_Section):
    """Grid and grey matter, shared by the simulation and the analysis (section ``anatomy``)."""

    voxel_size_mm: int
    grey_matter_threshold: float = 0.3


@dataclass(frozen=True)
class RegionsConfig(_Section):
    """Where the simulator plants the signal: the truth (config section ``regions``).

    The analysis never reads it; its ROIs are :attr:`AnalysisConfig.rois`.
    """

    centres: Mapping[str, Coordinate]
    radius_mm: float = 12.0
    irregularity: float = 0.5
    irregularity_fwhm_mm: float = 10.0
    shape_seed: int = 1
    visual: Mapping[str, Coordinate] = dataclasses.field(default_factory=dict)
    visual_radius_mm: float = 16.0


@dataclass(frozen=True)
class DesignConfig(_Section):
    """Timing and order of the block design (config section ``design``)."""

    tr: float
    n_runs: int
    blocks_per_condition: int
    block_s: float
    rest_s: float
    lead_in_s: float = 10.0
    lead_out_s: float = 14.0
    order: str = "counterbalanced"


@dataclass(frozen=True)
class RoiSignal(_Section):
    """Population model of one ROI's needle-minus-swab amplitude."""

    mean_psc: float
    sd_psc: float
    trait_coupling: float

    @property
    def varies(self) -> bool:
        """Whether the amplitude has any effect or spread at all."""
        return self.mean_psc != 0 or self.sd_psc != 0


@dataclass(frozen=True)
class SignalConfig(_Section):
    """Baseline, task responses and HRF variability (config section ``signal``)."""

    rois: Mapping[str, RoiSignal]
    baseline_grey: float = 1000.0
    baseline_white: float = 800.0
    baseline_csf: float = 1300.0
    visual_psc: float = 1.5
    swab_psc: float = 0.2
    hrf_delay_s: float = 6.0
    hrf_delay_sd_s: float = 0.5
    hrf_undershoot_s: float = 12.0
    hrf_undershoot_sd_s: float = 1.0
    run_sd_psc: float = 0.2
    shared_responsiveness: float = 0.5

    def for_rois(self, rois: Sequence[str]) -> SignalConfig:
        """The amplitude models that a set of analysis ROIs measure.

        An analysis ROI measures the simulated region of its name; one without
        such a region measures no signal (mean, SD and coupling 0).

        Parameters
        ----------
        rois : sequence of str
            Analysis ROI names (``analysis.rois``), in the order wanted.

        Returns
        -------
        SignalConfig
            This section with ``rois`` keyed by those names.
        """
        silent = RoiSignal(0.0, 0.0, 0.0)
        return dataclasses.replace(self, rois={name: self.rois.get(name, silent) for name in rois})


@dataclass(frozen=True)
class NoiseConfig(_Section):
    """Every noise component of the simulated BOLD (config section ``noise``)."""

    tsnr: float
    ar1_rho: float
    fwhm_mm: float
    motion_mm: float
    thermal_share: float = 0.4
    physio_share: float = 0.05
    slow_physio_share: float = 0.05
    drift_share: float = 0.05
    rician: bool = False
    drift_exponent: float = 1.0
    realignment_error_mm: float = 0.02
    spin_history_psc_per_mm: float = 1.0
    flinch_mm: float = 0.0
    flinch_probability: float = 0.5
    slice_order: str = "interleaved"


@dataclass(frozen=True)
class BehaviourConfig(_Section):
    """Moral dilemma task and process-dissociation model (config section ``behaviour``)."""

    n_congruent: int = 10
    n_incongruent: int = 10
    D_mean: float = 0.55
    D_sd_logit: float = 0.8
    D_trait_coupling: float = 0.6
    U_mean: float = 0.3
    U_sd_logit: float = 0.8
    U_trait_coupling: float = 0.0


@dataclass(frozen=True)
class DilemmasConfig(_Section):
    """Columns of raw dilemma counts to score (config section ``analysis.dilemmas``).

    ``n_congruent`` and ``n_incongruent`` are a number of dilemmas (the same
    for every participant) or the name of the column that holds each
    participant's; typed ``str | int`` so that :func:`_convert` keeps either
    as written.
    """

    congruent_rejected: str
    incongruent_rejected: str
    n_congruent: str | int
    n_incongruent: str | int


@dataclass(frozen=True)
class AnalysisConfig(_Section):
    """First level, group, ROI and brain-behaviour statistics (section ``analysis``)."""

    rois: Mapping[str, Coordinate] = dataclasses.field(default_factory=dict)
    roi_radius_mm: float = 8.0
    min_roi_voxels: int = 5
    hrf_model: str = "glover"
    drift_model: str = "cosine"
    high_pass_hz: float = 0.008
    noise_model: str = "ar1"
    smoothing_fwhm_mm: float = 6.0
    confounds: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: {"strategy": ["motion"], "motion": "basic"}
    )
    conditions: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: {"needle": ("needle",), "swab": ("swab",)}
    )
    n_permutations: int = 1000
    n_permutations_stats: int = 5000
    n_bootstrap: int = 2000
    alpha: float = 0.05
    selection_search_radius_mm: float = 12.0
    cluster_min_voxels: int = 5
    roi_estimate: str = "roi_mean_glm"
    scores: tuple[str, ...] = ("willingness_to_harm", "D", "U")
    bids_dir: str | None = None
    derivatives: str = "derivatives/fmriprep"
    space: str | None = None
    phenotype: str = "phenotype/moral_dilemmas.tsv"
    dilemmas: DilemmasConfig | None = None


@dataclass(frozen=True)
class ReplicatesConfig(_Section):
    """Full-pipeline replicate studies (config section ``power.replicates``)."""

    n_replicates: int = 20
    n_null_replicates: int = 20
    n_subjects: int = 19
    voxel_size_mm: int = 5
    n_permutations: int = 200


@dataclass(frozen=True)
class PilotPowerConfig(_Section):
    """Power from a pilot dataset, without a truth (config section ``power.pilot``).

    ``score_reliability`` None means: estimate it from the dilemma counts.
    """

    true_r: tuple[float, ...] = (0.1, 0.3, 0.5)
    score_reliability: float | None = 1.0


@dataclass(frozen=True)
class PowerConfig(_Section):
    """Fast Monte Carlo of power and inflation (config section ``power``)."""

    sample_sizes: tuple[int, ...] = (19, 30, 50, 100, 200, 400)
    n_studies: int = 10000
    alpha: float = 0.05
    seed_offset: int = 1000
    replicates: ReplicatesConfig = dataclasses.field(default_factory=ReplicatesConfig)
    pilot: PilotPowerConfig = dataclasses.field(default_factory=PilotPowerConfig)


@dataclass(frozen=True)
class ValidationConfig(_Section):
    """Grading against the truth (config section ``validation``)."""

    near_margin_mm: float = 6.0


@dataclass(frozen=True)
class SimulationConfig(_Section):
    """Everything one simulated subject depends on (not the number of subjects).

    The top-level keys ``seed`` and ``task_name`` and the sections
    ``anatomy``, ``regions``, ``design``, ``signal``, ``noise`` and ``behaviour``.
    """

    seed: int
    anatomy: AnatomyConfig
    regions: RegionsConfig
    design: DesignConfig
    signal: SignalConfig
    noise: NoiseConfig
    behaviour: BehaviourConfig
    task_name: str = "empathy"

    @property
    def rois(self) -> list[str]:
        """Names of the simulated regions with a needle-minus-swab amplitude, in config order."""
        return list(self.signal.rois)


@dataclass(frozen=True)
class StudyConfig(_Section):
    """A whole validated study: the simulation, its size and its analysis."""

    seed: int
    n_subjects: int
    anatomy: AnatomyConfig
    regions: RegionsConfig
    design: DesignConfig
    signal: SignalConfig
    noise: NoiseConfig
    behaviour: BehaviourConfig
    analysis: AnalysisConfig
    task_name: str = "empathy"
    power: PowerConfig = dataclasses.field(default_factory=PowerConfig)
    validation: ValidationConfig = dataclasses.field(default_factory=ValidationConfig)

    @property
    def simulation(self) -> SimulationConfig:
        """The part of the study that one subject's simulation depends on."""
        return SimulationConfig(
            seed=self.seed,
            anatomy=self.anatomy,
            regions=self.regions,
            design=self.design,
            signal=self.signal,
            noise=self.noise,
            behaviour=self.behaviour,
            task_name=self.task_name,
        )
