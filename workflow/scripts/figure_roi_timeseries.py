"""Rule figure_roi_timeseries: one subject's ROI signal with the GLM fit."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_roi_timeseries

    figure_roi_timeseries(
        snakemake.input.bold,
        snakemake.input.events,
        snakemake.input.design,
        snakemake.input.centres,
        snakemake.params.roi,
        snakemake.params.radius_mm,
        snakemake.params.grey_matter_threshold,
        snakemake.params.subject,
        snakemake.output,
        conditions=snakemake.params.conditions,
    )
