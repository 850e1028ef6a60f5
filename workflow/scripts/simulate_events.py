"""Rule simulate_events: every simulated subject's events of every run."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config.sections import DesignConfig
    from empathy_fmri.jobs.simulate import write_study_events

    write_study_events(
        snakemake.params.seed,
        snakemake.params.task,
        DesignConfig.from_dict(snakemake.params.design),
        snakemake.params.n_subjects,
        bids_root=snakemake.params.bids,
    )
