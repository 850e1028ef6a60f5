"""Rule behaviour_map: whole-brain regression of the effect maps on one score."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.behaviour_maps import run_behaviour_map

    run_behaviour_map(
        snakemake.input.effects,
        snakemake.params.subjects,
        snakemake.input.phenotype,
        snakemake.params.score,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.params.rois,
        dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        n_jobs=snakemake.threads,
    )
