"""Rule simulate_subject: one subject's BOLD runs, confounds and truth.

Its events files are written by rule simulate_events (the same events).
"""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import SimulationConfig
    from empathy_fmri.jobs.simulate import write_subject

    write_subject(
        SimulationConfig.from_dict(snakemake.params.simulation),
        snakemake.params.n_subjects,
        snakemake.params.index,
        snakemake.params.bids,
        snakemake.params.truth,
        write_events=False,
    )
