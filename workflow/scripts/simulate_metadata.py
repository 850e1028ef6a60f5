"""Rule simulate_metadata: dataset-level BIDS files and the phenotype."""

from empathy_fmri.dataset import write_dataset_metadata
from empathy_fmri.logs import log_to

with log_to(snakemake.log[0]):
    write_dataset_metadata(snakemake.config, bids_root=snakemake.params.bids)
