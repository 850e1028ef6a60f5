"""Rule simulate_truth: study-level ground truth."""

from empathy_fmri.dataset import write_truth
from empathy_fmri.logs import log_to

with log_to(snakemake.log[0]):
    write_truth(snakemake.config, snakemake.params.truth)
