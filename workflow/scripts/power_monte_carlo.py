"""Rule power_monte_carlo: fast summary-level Monte Carlo of power and inflation."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import BehaviourConfig, PowerConfig, SignalConfig
    from empathy_fmri.evaluation.monte_carlo import PopulationModel
    from empathy_fmri.jobs.power import run_power

    population = PopulationModel(
        seed=snakemake.params.seed,
        signal=SignalConfig.from_dict(snakemake.params.signal).for_rois(snakemake.params.rois),
        behaviour=BehaviourConfig.from_dict(snakemake.params.behaviour),
        scores=tuple(snakemake.params.scores),
    )
    run_power(
        population,
        PowerConfig.from_dict(snakemake.params.power),
        snakemake.params.n_subjects,
        snakemake.input.measurement,
        snakemake.output.table,
    )
