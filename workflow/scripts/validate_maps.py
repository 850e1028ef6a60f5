"""Rule validate_maps: thresholded group maps vs. the true activation."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.validate import run_map_validation

    run_map_validation(
        {"fdr": snakemake.input.fdr, "fwe": snakemake.input.fwe},
        dict(zip(snakemake.params.regions, snakemake.input.masks, strict=True)),
        snakemake.input.mean_map,
        snakemake.params.near_margin_mm,
        snakemake.output.table,
        [snakemake.output.figure],
    )
