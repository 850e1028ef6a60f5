"""Rule figure_rois: the a-priori ROIs on the MNI152 template."""

from empathy_fmri.jobs.figures import figure_rois
from empathy_fmri.jobs.logs import log_to

with log_to(snakemake.log[0]):
    figure_rois(
        snakemake.input.centres,
        snakemake.input.reference,
        snakemake.params.radius_mm,
        snakemake.params.grey_matter_threshold,
        snakemake.output,
    )
