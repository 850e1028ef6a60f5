"""The names of the moral dilemma task's scores, one wording for every text and figure."""

from __future__ import annotations

__all__ = ["SCORE_NAMES", "score_name"]

#: Plain names of the scores of the process-dissociation model (Conway &
#: Gawronski 2013 call D and U deontological and utilitarian inclinations).
SCORE_NAMES = {
    "willingness_to_harm": "willingness to harm",
    "D": "deontological inclination D",
    "U": "utilitarian inclination U",
}


def score_name(score: str) -> str:
    """The plain name of a score; a column of the user's own is named as it is.

    Parameters
    ----------
    score : str
        Phenotype column, e.g. ``"D"``.

    Returns
    -------
    str
    """
    return SCORE_NAMES.get(score, score)
