"""Rule participants_table: who was analysed, who was left out and why."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.first_level import write_participants_table

    dilemmas = AnalysisConfig.from_dict(snakemake.params.analysis).dilemmas

    write_participants_table(
        snakemake.params.listed,
        snakemake.params.excluded,
        snakemake.input.inputs,
        snakemake.output.table,
        phenotype_path=snakemake.input.phenotype if dilemmas else None,
        dilemmas=dilemmas,
    )
