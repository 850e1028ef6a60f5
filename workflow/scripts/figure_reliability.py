"""Rule figure_reliability: split-half ICC and Spearman-Brown per ROI and selection."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_reliability

    figure_reliability(snakemake.input.table, snakemake.output)
