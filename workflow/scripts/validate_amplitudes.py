"""Rule validate_amplitudes: per-subject ROI estimates vs. the true amplitudes."""

from empathy_fmri.jobs.logs import log_to
from empathy_fmri.jobs.validate import run_amplitude_validation

with log_to(snakemake.log[0]):
    run_amplitude_validation(
        snakemake.input.roi,
        snakemake.input.truth,
        snakemake.input.measurement,
        snakemake.output.table,
        [snakemake.output.figure],
    )
