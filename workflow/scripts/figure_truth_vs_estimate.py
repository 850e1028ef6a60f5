"""Rule validate_figure_truth_vs_estimate: estimates graded against the truth."""

from empathy_fmri.jobs.figures import figure_truth_vs_estimate
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_truth_vs_estimate(
        snakemake.input.roi,
        snakemake.input.truth,
        snakemake.input.stats,
        snakemake.input.population,
        snakemake.output,
    )
