"""Rule figure_rois: the a-priori ROIs on the MNI152 template."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_rois

    figure_rois(
        snakemake.params.rois,
        snakemake.params.radius_mm,
        snakemake.params.grey_matter_threshold,
        snakemake.output,
        reference_path=snakemake.input.reference or None,
        voxel_size_mm=snakemake.params.voxel_size_mm,
    )
