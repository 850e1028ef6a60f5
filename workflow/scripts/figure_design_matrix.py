"""Rule figure_design_matrix: one subject's first-level design matrices."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_design_matrix

    figure_design_matrix(snakemake.input.design, snakemake.output, snakemake.params.subject)
