"""Rule power_pilot_monte_carlo: power, spread of r and exaggeration from the pilot."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import PowerConfig
    from empathy_fmri.jobs.pilot_power import run_pilot_power

    run_pilot_power(
        PowerConfig.from_dict(snakemake.params.power),
        snakemake.params.n_subjects,
        snakemake.params.seed,
        snakemake.input.measurement,
        snakemake.output.table,
    )
