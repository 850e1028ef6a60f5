"""Rule validate_summary: plain-language summary of the validation."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_summary

    run_summary(
        snakemake.input.amplitudes,
        snakemake.input.maps,
        snakemake.input.correlations,
        snakemake.params.n_subjects,
        snakemake.params.alpha,
        snakemake.params.near_margin_mm,
        snakemake.output.summary,
        noise_path=snakemake.input.noise,
        conclusion_path=snakemake.input.conclusion,
    )
