"""Rule figure_behaviour_map: glass brain of one score's FWE-surviving r map."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_behaviour_map

    figure_behaviour_map(
        snakemake.input.r,
        snakemake.input.logp_fwe,
        snakemake.input.summary,
        snakemake.input.centres,
        snakemake.output,
    )
