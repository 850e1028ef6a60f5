"""Rule power_replicate: one complete simulated study, end to end, in memory."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.replicates import run_replicate_job

    run_replicate_job(
        snakemake.params.study,
        snakemake.params.index,
        snakemake.wildcards.kind,
        dict(snakemake.output.items()),
    )
