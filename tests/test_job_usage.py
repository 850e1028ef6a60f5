"""A job's log states its CPU time and peak memory, and they are measured, not sampled."""

from __future__ import annotations

import time

import numpy as np

from empathy_fmri.jobs.logs import log_to, read_job_usage


def test_log_states_the_jobs_cpu_time_and_peak_memory(tmp_path):
    log = tmp_path / "job.log"
    with log_to(log):
        # 400 MB held for a moment and 0.3 s of CPU: the peak and the time must
        # cover them (Snakemake's benchmark samples once a second at first)
        block = np.ones(50_000_000)
        block[::4096] += 1.0
        del block
        start = time.process_time()
        while time.process_time() - start < 0.3:
            pass
    usage = read_job_usage(log)
    assert usage is not None
    assert usage["peak_mb"] >= 400, usage
    assert usage["cpu_s"] >= 0.3, usage
    assert 0 < usage["wall_s"] < 60, usage


def test_a_log_without_the_last_line_has_no_usage(tmp_path):
    log = tmp_path / "failed.log"
    log.write_text("2026-12-02 01:00:00 ERROR empathy_fmri: job failed\n")
    assert read_job_usage(log) is None
