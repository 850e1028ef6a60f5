"""Rule simulate_phenotype: participants.tsv and the moral dilemma scores."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config.sections import BehaviourConfig
    from empathy_fmri.jobs.simulate import write_phenotype

    write_phenotype(
        snakemake.params.seed,
        BehaviourConfig.from_dict(snakemake.params.behaviour),
        snakemake.params.n_subjects,
        bids_root=snakemake.params.bids,
    )
