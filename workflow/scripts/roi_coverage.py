"""Rule roi_coverage: the a-priori ROIs on the data's own grid, inside its brain masks."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.config import AnalysisConfig
    from empathy_fmri.jobs.roi_coverage import run_roi_coverage

    run_roi_coverage(
        snakemake.input.masks,
        snakemake.input.bolds,
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.params.grey_matter_threshold,
        snakemake.output.table,
    )
