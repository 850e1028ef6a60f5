"""Send a workflow job's log records, warnings and errors to its log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "log_to",
]


@contextlib.contextmanager
def log_to(path: str | Path, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Log to ``path`` for the duration of a job, recording any error.

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
    except Exception:
        logger.exception("job failed")
        raise
    else:
        logger.info("done in %.1f s", time.perf_counter() - start)
    finally:
        root.removeHandler(handler)
        handler.close()
        sys.stderr.flush()
