"""Rule power_pilot_measurement: reliability of the pilot's ROI amplitudes and scores."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig, AnatomyConfig, PilotPowerConfig
    from empathy_fmri.jobs.pilot_power import run_pilot_measurement

    run_pilot_measurement(
        snakemake.input.effects,
        snakemake.input.variances,
        snakemake.input.roi,
        snakemake.input.null,
        snakemake.input.phenotype,
        AnatomyConfig.from_dict(snakemake.params.anatomy),
        snakemake.params.noise_fwhm_mm,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        PilotPowerConfig.from_dict(snakemake.params.pilot),
        snakemake.params.seed,
        snakemake.params.seed_offset,
        snakemake.output.table,
    )
