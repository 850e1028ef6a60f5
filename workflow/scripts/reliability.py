"""Rule reliability: split-half ICC(3,1) of every ROI estimate."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.reliability import run_reliability

    run_reliability(snakemake.input.table, snakemake.output.table)
