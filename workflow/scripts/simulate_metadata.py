"""Rule simulate_metadata: dataset-level BIDS files and the phenotype."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import SimulationConfig
    from empathy_fmri.jobs.simulate import write_dataset_metadata

    write_dataset_metadata(
        SimulationConfig.from_dict(snakemake.params.simulation),
        snakemake.params.n_subjects,
        bids_root=snakemake.params.bids,
    )
