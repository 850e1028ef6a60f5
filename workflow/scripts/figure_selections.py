"""Rules validate_figure_selections, power_replicates_selections: r under each ROI selection."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_selections

    figure_selections(
        snakemake.input.stats,
        snakemake.input.recovery,
        snakemake.input.get("replicates", []),
        snakemake.params.rois,
        snakemake.params.scores,
        snakemake.params.n_subjects,
        snakemake.output,
    )
