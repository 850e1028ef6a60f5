"""Rule power_monte_carlo: fast summary-level Monte Carlo of power and inflation."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.evaluation.power_inputs import power_settings
    from empathy_fmri.jobs.power import run_power

    params = snakemake.params
    run_power(
        power_settings(params.seed, params.signal, params.rois, params.behaviour,
                       params.scores, params.power, params.n_subjects),
        snakemake.input.measurement,
        snakemake.output.table,
        snakemake.output.settings,
    )
