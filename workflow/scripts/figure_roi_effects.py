"""Rule figure_roi_effects: mean ROI effect with 95% CI, subjects as points."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_roi_effects

    figure_roi_effects(snakemake.input.table, snakemake.output)
