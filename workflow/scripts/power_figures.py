"""Rule power_figures: power curves, r by sample size, exaggeration ratio."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_power

    figure_power(
        snakemake.input.table,
        snakemake.params.study_n,
        [snakemake.output.curves],
        [snakemake.output.distribution],
        [snakemake.output.exaggeration],
    )
