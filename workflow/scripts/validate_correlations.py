"""Rule validate_correlations: brain-behaviour r vs. the population and attenuated r."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_correlation_validation

    run_correlation_validation(
        snakemake.input.stats,
        snakemake.input.population,
        snakemake.input.power,
        snakemake.params.n_subjects,
        snakemake.params.alpha,
        snakemake.output.table,
        [snakemake.output.figure],
    )
