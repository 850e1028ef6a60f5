"""Study configuration: the packaged schema, loading, validation and typed sections.

``load_config`` / ``validate_config`` check a configuration against the JSON
Schema shipped in this package and the cross-field rules; the frozen
dataclasses of :mod:`empathy_fmri.config.sections` are what the rest of the
library receives.
"""

from empathy_fmri.config.fingerprint import config_hash
from empathy_fmri.config.loading import ConfigError, load_config, validate_config
from empathy_fmri.config.schema import default_schema_path
from empathy_fmri.config.sections import (
    AnalysisConfig,
    AnatomyConfig,
    BehaviourConfig,
    DesignConfig,
    DilemmasConfig,
    NoiseConfig,
    PilotPowerConfig,
    PowerConfig,
    RegionsConfig,
    ReplicatesConfig,
    RoiSignal,
    SignalConfig,
    SimulationConfig,
    StudyConfig,
    ValidationConfig,
)

__all__ = [
    "AnalysisConfig",
    "AnatomyConfig",
    "RegionsConfig",
    "BehaviourConfig",
    "ConfigError",
    "DesignConfig",
    "DilemmasConfig",
    "NoiseConfig",
    "PilotPowerConfig",
    "PowerConfig",
    "ReplicatesConfig",
    "RoiSignal",
    "SignalConfig",
    "SimulationConfig",
    "StudyConfig",
    "ValidationConfig",
    "config_hash",
    "default_schema_path",
    "load_config",
    "validate_config",
]
