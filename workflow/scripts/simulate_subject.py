"""Rule simulate_subject: one subject's BOLD runs, events, confounds and truth."""

from empathy_fmri.dataset import write_subject
from empathy_fmri.logs import log_to

with log_to(snakemake.log[0]):
    write_subject(
        snakemake.config, snakemake.params.index, snakemake.params.bids, snakemake.params.truth
    )
