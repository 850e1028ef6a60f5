"""Rule group_level: one-sample group test with FDR and FWE maps."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.group_level import run_group

    run_group(
        snakemake.input.effects,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.params.rois,
        dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        n_jobs=snakemake.threads,
    )
