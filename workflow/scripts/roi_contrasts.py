"""Rule roi_contrasts: ROI means per subject, independent and circular."""

from empathy_fmri.logs import log_to
from empathy_fmri.roi import run_roi_extraction

with log_to(snakemake.log[0]):
    run_roi_extraction(
        dict(zip(snakemake.params.subjects, snakemake.input.effects, strict=True)),
        snakemake.input.group_z,
        snakemake.params.anatomy,
        snakemake.params.analysis,
        snakemake.output.table,
        snakemake.output.centres,
    )
