"""Rule power_replicates_compare: replicate studies vs. the fast Monte Carlo; FWE error."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.replicates import run_replicate_comparison

    run_replicate_comparison(
        snakemake.params.study,
        snakemake.input.correlations,
        snakemake.input.calibration,
        snakemake.input.summaries,
        snakemake.output.comparison,
        snakemake.output.fwe,
        [snakemake.output.figure],
    )
