"""Rule figure_task_timeline: one run's blocks and modelled responses."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_task_timeline

    figure_task_timeline(
        snakemake.input.events,
        snakemake.params.tr,
        snakemake.params.hrf_model,
        snakemake.output,
        design=snakemake.params.design,
        design_matrix_path=snakemake.input.design or None,
        conditions=snakemake.params.conditions,
    )
