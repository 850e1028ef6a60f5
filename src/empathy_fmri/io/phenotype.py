"""The phenotype table of behavioural scores, read and (from raw dilemma counts) scored.

Every job that needs the scores reads them with :func:`read_phenotype`, so
that all of them see the same table: the file's columns as they are, or, when
``analysis.dilemmas`` names the columns of raw dilemma counts, those counts
checked and scored with the process-dissociation model (Conway & Gawronski
2013; :func:`~empathy_fmri.task.process_dissociation.estimate_process_dissociation`,
the function the simulator scores its own responses with).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import DilemmasConfig
from empathy_fmri.io.bids import _missing_columns, _numbers, _read_table, _shown
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.task.process_dissociation import estimate_process_dissociation

__all__ = [
    "DILEMMA_SCORES",
    "dilemma_counts",
    "read_phenotype",
    "require_phenotype_rows",
]

logger = logging.getLogger(__name__)

#: Columns that scoring raw dilemma counts adds to the phenotype table.
DILEMMA_SCORES = ("U", "D", "willingness_to_harm", "pd_edge_case")
#: Kinds of dilemma, with the keys of ``analysis.dilemmas`` that describe each.
_KINDS = {
    "congruent": ("congruent_rejected", "n_congruent"),
    "incongruent": ("incongruent_rejected", "n_incongruent"),
}


def require_phenotype_rows(
    phenotype: pd.DataFrame, subjects: Sequence[str], path: str | Path, purpose: str
) -> None:
    """Refuse a phenotype table that lacks a row for one of the subjects analysed.

    Parameters
    ----------
    phenotype : pandas.DataFrame
        From :func:`read_phenotype`.
    subjects : sequence of str
        Participant labels the analysis uses.
    path : str or pathlib.Path
        The phenotype file, for the message.
    purpose : str
        What needs every subject's scores, for the message.

    Raises
    ------
    InputFileError
        Naming every subject without a row.
    """
    without = [s for s in subjects if s not in phenotype.index]
    if without:
        raise InputFileError(
            path,
            f"has no row for {len(without)} of the {len(subjects)} subjects "
            f"({', '.join(without)}); {purpose} needs every subject's scores: add their "
            "rows (participant_id must match the BIDS labels, e.g. "
            f"{', '.join(list(subjects)[:3])}), or remove those subjects from the dataset",
        )


def read_phenotype(
    path: str | Path, scores: Sequence[str], dilemmas: DilemmasConfig | None = None
) -> pd.DataFrame:
    """Read the phenotype file, indexed by ``participant_id``; score raw dilemmas if asked.

    Parameters
    ----------
    path : str or pathlib.Path
        The phenotype file (``analysis.phenotype``).
    scores : sequence of str
        Score columns to read (``analysis.scores``).
    dilemmas : DilemmasConfig, optional
        ``analysis.dilemmas``: the columns of raw dilemma counts. Given, the
        columns of :data:`DILEMMA_SCORES` are computed from them for every
        row (to 12 decimals, so that equal scores tie exactly; see
        :func:`dilemma_counts` for what a row must hold), and
        ``scores`` may name them; the participants whose scores needed the
        extreme-proportion correction (``pd_edge_case`` ``yes``) are logged
        as a warning. None: the scores are columns of the file as they are.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``participant_id`` (``sub-`` prefixed, as BIDS labels
        are), with the ``scores`` as floats (``n/a`` is NaN: a missing score)
        and the file's other columns as read (plus the computed ones).

    Raises
    ------
    InputFileError
        If the file is empty or not a table, lacks ``participant_id`` or a
        score column, has a row without or with a repeated participant_id, or
        a score value that is not a number (or ``n/a``); with ``dilemmas``,
        also if the file already has a column of :data:`DILEMMA_SCORES`
        (which would be ambiguous: the file's or the computed one?) or a
        count is not what :func:`dilemma_counts` needs. The message names the
        column (and the ``analysis.dilemmas`` key) and the participants.
    """
    scores = list(scores)
    kind = "phenotype table (participant_id and the behavioural scores)"
    table = _read_table(path, kind, dtype={"participant_id": str})
    computed = DILEMMA_SCORES if dilemmas is not None else ()
    _missing_columns(
        path,
        table,
        ["participant_id", *[s for s in scores if s not in computed]],
        "phenotype file",
        "(participant_id and the scores named in 'analysis.scores')",
    )
    unnamed = np.flatnonzero(table["participant_id"].isna().to_numpy())
    if unnamed.size:
        raise InputFileError(
            path, f"column 'participant_id' is empty or n/a on line {unnamed[0] + 2}"
        )
    ids = [s if s.startswith("sub-") else f"sub-{s}" for s in table["participant_id"].str.strip()]
    repeated = sorted(set(pd.Index(ids)[pd.Index(ids).duplicated()]))
    if repeated:
        raise InputFileError(
            path, f"has more than one row for the participant(s) {repeated}; expected one each"
        )
    table.index = pd.Index(ids, name="participant_id")
    table = table.drop(columns="participant_id")
    if dilemmas is not None:
        table = _with_dilemma_scores(path, table, dilemmas)
    for score in scores:
        table[score] = _numbers(path, table, score, "a number", allow_missing=True, row_names=ids)
    return table


def dilemma_counts(
    path: str | Path, table: pd.DataFrame, dilemmas: DilemmasConfig
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each participant's dilemmas of each kind and those in which harm was rejected.

    Parameters
    ----------
    path : str or pathlib.Path
        The phenotype file, for the messages.
    table : pandas.DataFrame
        The file's table, indexed by ``participant_id``.
    dilemmas : DilemmasConfig
        ``analysis.dilemmas``.

    Returns
    -------
    dict
        ``{"congruent": (rejected, n), "incongruent": (rejected, n)}``, one
        integer per row of ``table``.

    Raises
    ------
    InputFileError
        If a column is missing, or in some row a number of dilemmas is not a
        whole number of at least 1, or a count is ``n/a``, not a whole number,
        negative or above the number of dilemmas of its kind. The message
        names the column, its ``analysis.dilemmas`` key and (up to five of)
        the participants with their values.
    """
    given = {key: getattr(dilemmas, key) for pair in _KINDS.values() for key in pair}
    columns = {key: value for key, value in given.items() if isinstance(value, str)}
    _missing_columns(
        path,
        table,
        list(columns.values()),
        "phenotype file",
        "(the raw dilemma counts named in 'analysis.dilemmas': "
        + ", ".join(f"{key}: {value}" for key, value in columns.items())
        + ")",
    )
    ids = list(table.index)
    out = {}
    for kind, (rejected_key, n_key) in _KINDS.items():
        n_value = given[n_key]
        if isinstance(n_value, str):
            n = _whole_numbers(
                path,
                table[n_value],
                ids,
                f"'{n_value}' ('analysis.dilemmas.{n_key}')",
                1,
                None,
                "at least 1",
            )
            limit = f"the participant's '{n_value}'"
        else:
            n = np.full(len(table), int(n_value))
            limit = f"'analysis.dilemmas.{n_key}' = {n_value}"
        column = getattr(dilemmas, rejected_key)
        rejected = _whole_numbers(
            path,
            table[column],
            ids,
            f"'{column}' ('analysis.dilemmas.{rejected_key}')",
            0,
            n,
            f"between 0 and the number of {kind} dilemmas ({limit})",
        )
        out[kind] = (rejected, n)
    return out


def _whole_numbers(
    path: str | Path,
    raw: pd.Series,
    ids: Sequence[str],
    name: str,
    low: int,
    high: np.ndarray | None,
    what: str,
) -> np.ndarray:
    """A column of counts as integers, or :class:`InputFileError` naming the rows that are not."""
    values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < low)
        if high is not None:
            bad |= values > high
    if not bad.any():
        return values.astype(int)
    rows = np.flatnonzero(bad)
    shown = ", ".join(
        f"{ids[r]} has {_shown(raw.iloc[r])}"
        + (f" (of {int(high[r])})" if high is not None and np.isfinite(values[r]) else "")
        for r in rows[:5]
    )
    more = f" (and {len(rows) - 5} more participants)" if len(rows) > 5 else ""
    hint = (
        "; a participant without responses cannot be scored: remove the row (the ROI "
        "correlations then leave them out, and a job that needs every subject's scores "
        "says so)"
        if any(pd.isna(raw.iloc[r]) for r in rows)
        else ""
    )
    raise InputFileError(
        path,
        f"column {name} must hold a whole number {what} in every row, but {shown}{more}{hint}",
    )


def _with_dilemma_scores(
    path: str | Path, table: pd.DataFrame, dilemmas: DilemmasConfig
) -> pd.DataFrame:
    """The table with the :data:`DILEMMA_SCORES` computed from the counts; edge cases logged."""
    clash = [c for c in DILEMMA_SCORES if c in table.columns]
    if clash:
        raise InputFileError(
            path,
            f"already has the column(s) {clash}, which 'analysis.dilemmas' computes from the "
            "raw dilemma counts (U, D, willingness_to_harm, pd_edge_case); rename them to keep "
            "both, or set 'analysis.dilemmas' to null to use the file's columns as they are",
        )
    counts = dilemma_counts(path, table, dilemmas)
    (c_rejected, n_c), (i_rejected, n_i) = counts["congruent"], counts["incongruent"]
    estimates = estimate_process_dissociation(c_rejected, i_rejected, n_c, n_i)
    table = table.copy()
    for column in ("U", "D", "willingness_to_harm"):
        # Each score is a fraction of small integers, but the floating-point steps of
        # the estimate can leave two equal fractions a unit apart in the 17th digit
        # (0.1 and 0.09999999999999998), which breaks their tie: Spearman's rho and
        # the bootstrap would then differ from the same scores read from a file.
        # Two distinct scores, fractions with denominators of at most 8 n_c n_i (D
        # after the U = 1 correction), differ by at least 1 / (8 n_c n_i)^2: 1.6e-10
        # for 100 dilemmas of each kind. So 12 decimals keep them apart (up to about
        # 350 of each kind) and make equal ones tie.
        table[column] = np.round(estimates[column].to_numpy(float), 12)
    edge = estimates["pd_edge_case"].to_numpy(bool)
    table["pd_edge_case"] = np.where(edge, "yes", "no")
    logger.info(
        "phenotype file '%s': U, D and willingness_to_harm of %d participants computed from "
        "the raw dilemma counts (%s)",
        path,
        len(table),
        ", ".join(f"{k}: {v}" for k, v in dilemmas.to_dict().items()),
    )
    if edge.any():
        logger.warning(
            "phenotype file '%s': %d participant(s) rejected harm in every congruent and in no "
            "incongruent dilemma (U = 1, where D = p_i / (1 - U) divides by zero); their "
            "proportions were replaced by 1 - 1/(2 n) and 1/(2 n) before scoring "
            "(pd_edge_case yes): %s",
            path,
            int(edge.sum()),
            ", ".join(table.index[edge]),
        )
    return table
