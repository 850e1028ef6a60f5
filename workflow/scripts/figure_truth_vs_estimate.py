"""Rule validate_figure_truth_vs_estimate: estimates graded against the truth."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_truth_vs_estimate

    figure_truth_vs_estimate(
        snakemake.input.roi,
        snakemake.input.truth,
        snakemake.input.stats,
        snakemake.input.population,
        snakemake.output,
    )
