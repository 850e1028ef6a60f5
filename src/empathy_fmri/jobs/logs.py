"""Send a workflow job's log records, warnings and errors to its log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from empathy_fmri.io.errors import InputFileError, LayoutError

__all__ = [
    "log_to",
    "recorded_warnings",
]


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
        logger.info("done in %.1f s", time.perf_counter() - start)
    finally:
        root.removeHandler(handler)
        handler.close()
        sys.stderr.flush()
