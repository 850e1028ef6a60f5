"""Rule warnings_record: every warning of the run in plain words (report, console)."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.warnings_record import run_warnings_record

    # a list even for one analysed participant (one named file would be a plain string)
    inputs = snakemake.input.inputs
    run_warnings_record(
        snakemake.input.participants,
        [inputs] if isinstance(inputs, str) else list(inputs),
        snakemake.input.stats,
        snakemake.params.n_subjects,
        dict(snakemake.params.analysis),
        snakemake.params.phenotype,
        snakemake.output.text,
        list(snakemake.params.excluded),
    )
