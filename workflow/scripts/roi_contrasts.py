"""Rule roi_contrasts: every subject's amplitude in each ROI and selection."""

from empathy_fmri.config import AnalysisConfig
from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.roi_contrasts import run_roi_extraction

with log_to(snakemake.log[0]):
    run_roi_extraction(
        dict(zip(snakemake.params.subjects, snakemake.input.effects, strict=True)),
        dict(zip(snakemake.params.subjects, snakemake.input.roi_glm, strict=True)),
        snakemake.input.centres,
        snakemake.params.anatomy["grey_matter_threshold"],
        AnalysisConfig.from_dict(snakemake.params.analysis),
        snakemake.output.table,
    )
