"""Rule simulate_subject: one subject's BOLD runs, events, confounds and truth."""

from empathy_fmri.config import SimulationConfig
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.simulate import write_subject

with log_to(snakemake.log[0]):
    write_subject(
        SimulationConfig.from_dict(snakemake.params.simulation),
        snakemake.params.n_subjects,
        snakemake.params.index,
        snakemake.params.bids,
        snakemake.params.truth,
    )
