"""Rule first_level: one subject's GLM."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.first_level import run_first_level

    run_first_level(
        snakemake.wildcards.subject,
        snakemake.params.source,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.params.statmaps,
        snakemake.output.design_tsv,
        snakemake.output.design_png,
        inputs_json=snakemake.output.inputs,
        expected_bold=snakemake.input.bold,
        n_jobs=snakemake.threads,
    )
