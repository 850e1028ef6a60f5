"""Rule power_measurement: measurement error of the ROI means from the first level."""

from empathy_fmri.logs import log_to
from empathy_fmri.power import run_measurement_model

with log_to(snakemake.log[0]):
    run_measurement_model(
        snakemake.input.effects,
        snakemake.input.variances,
        snakemake.config,
        snakemake.output.table,
    )
