"""Rule validate_maps: thresholded group maps vs. the true activation."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.validate import run_map_validation

with log_to(snakemake.log[0]):
    run_map_validation(
        {"fdr": snakemake.input.fdr, "fwe": snakemake.input.fwe},
        dict(zip(snakemake.params.rois, snakemake.input.masks, strict=True)),
        snakemake.input.mean_map,
        snakemake.params.near_margin_mm,
        snakemake.output.table,
        [snakemake.output.figure],
    )
