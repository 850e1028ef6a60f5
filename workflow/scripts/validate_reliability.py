"""Rule validate_reliability: the split-half reliabilities against the true ones."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_reliability_validation

    run_reliability_validation(
        snakemake.input.reliability,
        snakemake.input.roi,
        snakemake.input.truth,
        snakemake.input.measurement,
        snakemake.output.table,
    )
