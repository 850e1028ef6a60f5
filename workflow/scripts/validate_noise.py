"""Rule validate_noise: what the first level removes of each noise component."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_noise_validation

    run_noise_validation(
        snakemake.params.simulation,
        snakemake.params.analysis,
        snakemake.params.n_subjects,
        snakemake.output.table,
        snakemake.output.figure,
    )
