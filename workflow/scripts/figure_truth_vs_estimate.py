"""Rule validate_figure_truth_vs_estimate: estimates graded against the truth."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.plotting.validation import figure_truth_vs_estimate

with log_to(snakemake.log[0]):
    figure_truth_vs_estimate(
        snakemake.input.roi,
        snakemake.input.truth,
        snakemake.input.stats,
        snakemake.input.population,
        snakemake.output,
    )
