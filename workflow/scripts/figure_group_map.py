"""Rule figure_group_map: FWE-thresholded group z map with the ROIs outlined."""

from empathy_fmri.jobs.logs import log_to

# Imported inside log_to: the imports take seconds, and Ctrl-C or an error
# while importing is then handled (and logged) like one in the job.
with log_to(snakemake.log[0]):
    from empathy_fmri.jobs.figures import figure_group_map

    figure_group_map(
        snakemake.input.z_fwe,
        snakemake.input.summary,
        snakemake.input.centres,
        snakemake.params.radius_mm,
        snakemake.params.grey_matter_threshold,
        snakemake.output,
    )
