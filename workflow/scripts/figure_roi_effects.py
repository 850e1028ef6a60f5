"""Rule figure_roi_effects: mean ROI effect with 95% CI, subjects as points."""

from empathy_fmri.jobs.figures import figure_roi_effects
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_roi_effects(snakemake.input.table, snakemake.output)
