"""Rule brain_behaviour: ROI effects vs. behavioural scores."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig, config_hash
    from empathy_fmri.jobs.brain_behaviour import run_brain_behaviour

    run_brain_behaviour(
        snakemake.input.roi,
        snakemake.input.phenotype,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.params.seed,
        snakemake.output.table,
        snakemake.output.json,
        config_hash(dict(snakemake.params.items())),
    )
