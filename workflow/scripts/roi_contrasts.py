"""Rule roi_contrasts: ROI means per subject, independent and circular."""

from empathy_fmri.config import AnalysisConfig, AnatomyConfig
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.roi_contrasts import run_roi_extraction

with log_to(snakemake.log[0]):
    run_roi_extraction(
        dict(zip(snakemake.params.subjects, snakemake.input.effects, strict=True)),
        snakemake.input.group_z,
        AnatomyConfig.from_dict(snakemake.params.anatomy),
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.table,
        snakemake.output.centres,
    )
