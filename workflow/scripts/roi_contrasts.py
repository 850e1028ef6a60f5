"""Rule roi_contrasts: every subject's amplitude in each ROI and selection."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.roi_contrasts import run_roi_extraction

    run_roi_extraction(
        dict(zip(snakemake.params.subjects, snakemake.input.effects, strict=True)),
        dict(zip(snakemake.params.subjects, snakemake.input.roi_glm, strict=True)),
        snakemake.input.centres,
        snakemake.params.anatomy["grey_matter_threshold"],
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.table,
        snakemake.output.null,
    )
