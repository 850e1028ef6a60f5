"""Rule figure_roi_effects: mean ROI effect with 95% CI, subjects as points."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.plotting.stats import figure_roi_effects

with log_to(snakemake.log[0]):
    figure_roi_effects(snakemake.input.table, snakemake.output)
