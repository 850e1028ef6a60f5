"""Rule figure_brain_behaviour: ROI effect against one score, per ROI and selection."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.figures import figure_brain_behaviour

    figure_brain_behaviour(
        snakemake.input.roi,
        snakemake.input.phenotype,
        snakemake.input.stats,
        snakemake.wildcards.score,
        snakemake.output,
        dilemmas=AnalysisConfig.from_dict(snakemake.params.analysis).dilemmas,
    )
