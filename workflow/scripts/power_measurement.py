"""Rule power_measurement: measurement error of the ROI means from the first level."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import (
        AnalysisConfig,
        AnatomyConfig,
        NoiseConfig,
        RegionsConfig,
        SignalConfig,
    )
    from empathy_fmri.jobs.power import run_measurement_model

    run_measurement_model(
        snakemake.input.effects,
        snakemake.input.variances,
        snakemake.input.roi,
        snakemake.input.null,
        AnatomyConfig.from_dict(snakemake.params.anatomy),
        RegionsConfig.from_dict(snakemake.params.regions),
        SignalConfig.from_dict(snakemake.params.signal),
        NoiseConfig.from_dict(snakemake.params.noise),
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.table,
        n_runs=snakemake.params.n_runs,
    )
