"""Rule power_replicate: one complete simulated study, end to end, in memory."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.replicates import run_replicate_job

with log_to(snakemake.log[0]):
    run_replicate_job(
        snakemake.params.study,
        snakemake.params.index,
        snakemake.wildcards.kind,
        dict(snakemake.output.items()),
    )
