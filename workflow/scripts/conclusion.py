"""Rule conclusion: the study's bottom line in plain words (report, summary, console)."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.conclusion import run_conclusion

    # a list (empty for real data); one named file would come back as a plain string
    graded = snakemake.input.graded
    graded = [graded] if isinstance(graded, str) else list(graded)
    run_conclusion(
        snakemake.input.stats,
        snakemake.input.power,
        snakemake.params.alpha,
        snakemake.output.text,
        graded[0] if graded else None,
        snakemake.params.inflated_ratio,
    )
