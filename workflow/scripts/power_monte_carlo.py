"""Rule power_monte_carlo: fast summary-level Monte Carlo of power and inflation."""

from empathy_fmri.logs import log_to
from empathy_fmri.power import run_power

with log_to(snakemake.log[0]):
    run_power(snakemake.config, snakemake.input.measurement, snakemake.output.table)
