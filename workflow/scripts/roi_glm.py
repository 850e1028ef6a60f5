"""Rule roi_glm: one subject's ROI-mean GLMs on the unsmoothed BOLD."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.roi_contrasts import run_roi_glm

    run_roi_glm(
        snakemake.wildcards.subject,
        snakemake.params.source,
        snakemake.input.centres,
        snakemake.input.group_z,
        snakemake.params.anatomy["grey_matter_threshold"],
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.table,
        expected_bold=snakemake.input.bold,
    )
