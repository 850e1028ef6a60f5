"""Rule figure_brain_behaviour: ROI effect against one score, per ROI and selection."""

from empathy_fmri.jobs.figures import figure_brain_behaviour
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_brain_behaviour(
        snakemake.input.roi,
        snakemake.input.phenotype,
        snakemake.input.stats,
        snakemake.wildcards.score,
        snakemake.output,
    )
