"""Rule simulate_metadata: dataset-level BIDS files and the phenotype."""

from empathy_fmri.config import SimulationConfig
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.simulate import write_dataset_metadata

with log_to(snakemake.log[0]):
    write_dataset_metadata(
        SimulationConfig.from_dict(snakemake.params.simulation),
        snakemake.params.n_subjects,
        bids_root=snakemake.params.bids,
    )
