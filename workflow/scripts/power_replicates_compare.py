"""Rule power_replicates_compare: replicate studies vs. the fast Monte Carlo; FWE error."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.replicates import run_replicate_comparison

with log_to(snakemake.log[0]):
    run_replicate_comparison(
        snakemake.params.study,
        snakemake.input.correlations,
        snakemake.input.calibration,
        snakemake.input.summaries,
        snakemake.output.comparison,
        snakemake.output.fwe,
        [snakemake.output.figure],
    )
