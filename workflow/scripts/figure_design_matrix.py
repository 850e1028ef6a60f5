"""Rule figure_design_matrix: one subject's first-level design matrices."""

from empathy_fmri.jobs.figures import figure_design_matrix
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_design_matrix(snakemake.input.design, snakemake.output, snakemake.params.subject)
