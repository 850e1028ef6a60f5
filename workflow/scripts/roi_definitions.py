"""Rule roi_definitions: centres of the ROIs of every selection."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig, AnatomyConfig
    from empathy_fmri.jobs.roi_contrasts import run_roi_definitions

    run_roi_definitions(
        snakemake.input.group_z,
        dict(zip(snakemake.params.subjects, snakemake.input.effects, strict=True)),
        snakemake.input.phenotype,
        AnatomyConfig.from_dict(snakemake.params.anatomy),
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.centres,
    )
