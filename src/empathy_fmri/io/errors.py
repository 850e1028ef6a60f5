"""The error of an input file that cannot be read or does not hold what the analysis expects."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "InputFileError",
    "LayoutError",
]


class InputFileError(ValueError):
    """An input file is unreadable or does not hold what the analysis expects.

    The message is one paragraph (no line break) that names the file and
    says what is wrong and what was expected, so that a workflow job can show
    it as it is. Being a :class:`ValueError`, it is caught wherever a bad
    value is; callers that want to tell a bad input apart catch this class.

    Parameters
    ----------
    path : str or pathlib.Path
        The file at fault (for a mismatch between two files, the one to fix).
    problem : str
        What is wrong and what was expected, naming the column, subject or
        trial type involved.

    Attributes
    ----------
    path : pathlib.Path
        The file at fault.
    problem : str
        The message without the file's name.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(str(problem).splitlines())
        super().__init__(f"Input file '{self.path}': {self.problem}")

    def __reduce__(self) -> tuple[type[InputFileError], tuple[str, str]]:
        """Pickle by the constructor's arguments (for multiprocessing)."""
        return (type(self), (str(self.path), self.problem))


class LayoutError(ValueError):
    """A dataset lacks files the analysis needs, or holds them ambiguously.

    Raised by the query layer (:mod:`empathy_fmri.io.layout`) with a
    one-paragraph message that names the subject, the run and the path
    expected, e.g. a subject without preprocessed BOLD in the analysis space.
    """
