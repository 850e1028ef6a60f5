"""A job's log states its CPU time and peak memory, and they are measured, not sampled."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_job_started_from_a_large_process_reports_its_own_peak(tmp_path):
    # Snakemake forks each job from its own process (about 340 MB); the
    # kernel's ru_maxrss survives exec, so it would report at least that.
    ballast = np.ones(75_000_000)  # 600 MB resident in this (parent) process
    ballast[::512] += 1.0
    log = tmp_path / "child.log"
    code = f"from empathy_fmri.jobs.logs import log_to\nwith log_to({str(log)!r}):\n    pass\n"
    subprocess.run([sys.executable, "-c", code], check=True)
    del ballast
    usage = read_job_usage(log)
    assert usage is not None
    # the child holds Python and the package's logging only: tens of MB
    assert usage["peak_mb"] < 300, usage


_PARALLEL_JOB = """
import multiprocessing, sys, time
import numpy as np
from empathy_fmri.jobs.logs import log_to


def busy(seconds):
    block = np.ones(50_000_000)  # 400 MB in the worker
    block[::512] += 1.0
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return float(block[0])


if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as pool, log_to(sys.argv[1]):
        pool.apply(busy, (2.0,))
"""


def test_workers_still_alive_at_the_end_are_counted(tmp_path):
    # nilearn's permutations run in joblib workers that outlive the job's
    # work; getrusage counts only reaped children. The job's own process
    # (Python and numpy) takes well under 1 s and 100 MB: the 2 s and 400 MB
    # are the worker's.
    script = tmp_path / "parallel_job.py"
    script.write_text(_PARALLEL_JOB)
    log = tmp_path / "parallel.log"
    subprocess.run([sys.executable, str(script), str(log)], check=True)
    usage = read_job_usage(log)
    assert usage is not None
    assert usage["cpu_s"] >= 2.0, usage
    assert usage["peak_mb"] >= 400, usage
