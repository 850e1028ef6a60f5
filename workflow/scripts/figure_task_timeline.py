"""Rule figure_task_timeline: one run's blocks and modelled responses."""

from empathy_fmri.jobs.figures import figure_task_timeline
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_task_timeline(
        snakemake.input.events, snakemake.input.design, snakemake.params.tr, snakemake.output
    )
