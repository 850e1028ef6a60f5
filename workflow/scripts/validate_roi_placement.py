"""Rule validate_roi_placement: distance and overlap of each ROI with its true region."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_roi_placement_validation

    run_roi_placement_validation(
        snakemake.input.centres,
        dict(zip(snakemake.params.regions, snakemake.input.masks, strict=True)),
        snakemake.params.centres,
        snakemake.input.mean_map,
        snakemake.params.grey_matter_threshold,
        snakemake.output.table,
    )
