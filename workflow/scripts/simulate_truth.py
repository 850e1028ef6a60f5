"""Rule simulate_truth: study-level ground truth."""

from empathy_fmri.config import SimulationConfig
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.simulate import write_truth

with log_to(snakemake.log[0]):
    write_truth(
        SimulationConfig.from_dict(snakemake.params.simulation),
        snakemake.params.n_subjects,
        snakemake.params.truth,
    )
