"""Rule brain_behaviour: ROI effects vs. behavioural scores."""

from empathy_fmri.logs import log_to
from empathy_fmri.stats import run_brain_behaviour

with log_to(snakemake.log[0]):
    run_brain_behaviour(
        snakemake.input.roi,
        snakemake.input.phenotype,
        snakemake.params.scores,
        snakemake.params.analysis,
        snakemake.params.seed,
        snakemake.output.table,
        snakemake.output.json,
        snakemake.params.config_hash,
    )
