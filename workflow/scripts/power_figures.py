"""Rule power_figures: power curves, r by sample size, exaggeration ratio."""

from empathy_fmri.jobs.figures import figure_power
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_power(
        snakemake.input.table,
        snakemake.params.study_n,
        [snakemake.output.curves],
        [snakemake.output.distribution],
        [snakemake.output.exaggeration],
    )
