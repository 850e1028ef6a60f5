"""Send a workflow job's log records, warnings and errors to its log file."""

from __future__ import annotations

import contextlib
import logging
import re
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from empathy_fmri.io.errors import InputFileError, LayoutError

__all__ = [
    "job_usage",
    "log_to",
    "read_job_usage",
    "recorded_warnings",
]

#: The last line of a finished job's log (:func:`log_to`).
_DONE = re.compile(
    r"done in (?P<wall_s>[0-9.]+) s, CPU (?P<cpu_s>[0-9.]+) s, peak memory (?P<peak_mb>[0-9.]+) MB"
)


def job_usage() -> tuple[float, float]:
    """CPU seconds (user + system) and peak resident memory (MB) of this job so far.

    The job is this process and its child processes: finished ones (their
    CPU time and their largest peak, from ``getrusage``) and ones still
    alive, such as the joblib workers that nilearn's permutations leave
    running until the process exits (their CPU time and their peaks, from
    psutil and ``/proc``). The peak is this process's peak plus those of the
    children still alive, an upper bound for what the job held at once.
    Unlike Snakemake's ``benchmark`` files, which sample the job every
    second for 30 s and every 30 s after that, so that what a job does
    after its last sample is missed (one replicate study: 15 s of CPU in its
    benchmark file, 30-40 s by ``/usr/bin/time``), nothing is sampled.

    The peaks are the processes' own high-water marks (``VmHWM`` on Linux):
    ``ru_maxrss`` survives ``exec``, so a job started from Snakemake's
    process would report at least that process's size (about 340 MB).

    Returns
    -------
    cpu_s, peak_mb : float
    """
    import psutil

    own = resource.getrusage(resource.RUSAGE_SELF)
    finished = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = own.ru_utime + own.ru_stime + finished.ru_utime + finished.ru_stime
    # ru_maxrss is in kB on Linux, in bytes on macOS
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak_mb = _high_water_mark_mb("self")
    if peak_mb is None:
        peak_mb = own.ru_maxrss / scale
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            child_peak = _high_water_mark_mb(str(child.pid))
            if child_peak is None:
                child_peak = child.memory_info().rss / 1024**2
        except psutil.Error:
            continue  # ended meanwhile: counted by getrusage once reaped
        cpu_s += times.user + times.system
        peak_mb += child_peak
    return cpu_s, max(peak_mb, finished.ru_maxrss / scale)


def _high_water_mark_mb(pid: str) -> float | None:
    """Peak resident memory (MB) of a process, from ``/proc/<pid>/status``; None elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def read_job_usage(log_path: str | Path) -> dict[str, float] | None:
    """The wall time, CPU time and peak memory a finished job logged, or None.

    Parameters
    ----------
    log_path : str or pathlib.Path
        A job's log file (written by :func:`log_to`).

    Returns
    -------
    dict or None
        ``wall_s``, ``cpu_s`` and ``peak_mb``; None when the log has no
        "done in" line (the job failed, or ran before this was logged).
    """
    matches = list(_DONE.finditer(Path(log_path).read_text(errors="replace")))
    if not matches:
        return None
    match = matches[-1]
    return {key: float(value) for key, value in match.groupdict().items()}


class _Recorder(logging.Handler):
    """Keep the message of every record it handles."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextlib.contextmanager
def recorded_warnings(name: str = "empathy_fmri") -> Iterator[list[str]]:
    """Collect the warnings the package logs while the block runs, to record them in a result.

    A job's log is overwritten by its next run and is no input of other
    jobs; a warning that the report and the end-of-run message must show
    (a doubtful input file, say) is therefore also written into one of the
    job's outputs (the first level's ``_desc-inputs.json``), and this is how
    the job gets them. The records still reach the log as before.

    Parameters
    ----------
    name : str
        Logger whose WARNING (and worse) records are kept, with its children.

    Yields
    ------
    list of str
        The messages, each on one line, in the order they were logged;
        filled while the block runs.
    """
    messages: list[str] = []
    handler = _Recorder(messages)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def log_to(path: str | Path, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Log to ``path`` for the duration of a job, recording any error.

    An :class:`~empathy_fmri.io.errors.InputFileError` (a bad input file) is
    logged as one ERROR line, its message, which is also printed to stderr;
    any other exception is logged with its traceback. Either is re-raised.

    Parameters
    ----------
    path : str or pathlib.Path
        The job's log file (Snakemake's ``log:``).
    level : int
        Logging level of the ``empathy_fmri`` loggers.

    Yields
    ------
    logging.Logger
        The package logger.

    Notes
    -----
    A job that ends without an error logs as its last line its wall time,
    its CPU time and its peak memory (:func:`job_usage`), which
    :func:`read_job_usage` reads back.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    logger = logging.getLogger("empathy_fmri")
    start = time.perf_counter()
    try:
        yield logger
    except (InputFileError, LayoutError) as err:
        # A bad input: the message says it all, as the log's last line and on
        # the terminal (Snakemake shows the job's stderr), before the traceback.
        logger.error("%s", err)
        print(f"Error: {err}", file=sys.stderr)
        raise
    except Exception:
        logger.exception("job failed")
        raise
    except KeyboardInterrupt:
        # Ctrl-C reaches every job (the terminal signals the whole process
        # group) and Snakemake reports the interruption itself: note it in the
        # log and exit as a shell does (status 130), without a traceback.
        logger.warning("interrupted after %.1f s", time.perf_counter() - start)
        raise SystemExit(130) from None
    else:
        cpu_s, peak_mb = job_usage()
        logger.info(
            "done in %.1f s, CPU %.1f s, peak memory %.0f MB",
            time.perf_counter() - start,
            cpu_s,
            peak_mb,
        )
    finally:
        root.removeHandler(handler)
        handler.close()
        sys.stderr.flush()
