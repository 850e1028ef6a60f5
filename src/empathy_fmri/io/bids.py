"""BIDS names and readers/writers of the simulated dataset."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.filebasedimages import ImageFileError

from empathy_fmri.io.errors import InputFileError
from empathy_fmri.task.conditions import CONDITIONS

__all__ = [
    "STATISTICS",
    "bids_label",
    "bold_image",
    "check_bold",
    "design_matrix_path",
    "list_subjects",
    "read_events",
    "statmap_path",
    "to_volume",
]


logger = logging.getLogger(__name__)

#: Statistic labels (``stat-<label>``) written per contrast.
STATISTICS = ("effect", "variance", "z")


def to_volume(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scatter mask-voxel values back onto the grid.

    Parameters
    ----------
    values : numpy.ndarray
        ``(n_voxels,)`` or ``(n_scans, n_voxels)``.
    mask : numpy.ndarray
        Boolean 3D mask with ``n_voxels`` true voxels.

    Returns
    -------
    numpy.ndarray
        3D, or 4D with time last, zero outside the mask. The 4D array is in
        Fortran order, the order of a NIfTI file, so writing it is one copy
        (from C order, nibabel's transposing copy took 0.4 s a run at 3 mm).
    """
    values = np.asarray(values)
    if values.ndim == 1:
        volume = np.zeros(mask.shape, dtype=values.dtype)
        volume[mask] = values
        return volume
    volume = np.zeros((*mask.shape, values.shape[0]), dtype=values.dtype, order="F")
    for scan, scan_values in enumerate(values):
        volume[..., scan][mask] = scan_values
    return volume


def bold_image(
    bold: np.ndarray, mask: np.ndarray, affine: np.ndarray, tr_s: float
) -> nib.Nifti1Image:
    """A 4D BOLD image as a scanner would store it: int16 with a scale factor.

    Parameters
    ----------
    bold : numpy.ndarray
        ``(n_scans, n_voxels)`` intensities of the mask voxels.
    mask : numpy.ndarray
        Boolean 3D mask.
    affine : numpy.ndarray
        Voxel-to-MNI affine.
    tr_s : float
        Repetition time, written to the header (pixdim[4], seconds).

    Returns
    -------
    nibabel.Nifti1Image
        With xyzt units ``mm`` and ``sec`` and the MNI affine as s- and q-form.
    """
    # Scale to int16 here, per run, rather than letting nibabel convert a
    # float64 copy of the whole 4D grid: memory stays at the int16 image.
    slope = float(np.abs(bold).max()) / 32000.0 or 1.0
    scaled = np.rint(bold / np.float32(slope)).astype(np.int16)
    image = nib.Nifti1Image(to_volume(scaled, mask), affine)
    header = image.header
    header.set_data_dtype(np.int16)
    header.set_slope_inter(slope, 0.0)
    header.set_xyzt_units("mm", "sec")
    zooms = header.get_zooms()
    header.set_zooms((*zooms[:3], float(tr_s)))
    image.set_sform(affine, code=4)  # 4 = MNI
    image.set_qform(affine, code=4)
    return image


def _read_table(path: str | Path, kind: str, **kwargs: Any) -> pd.DataFrame:
    """Read a BIDS tab-separated table, turning pandas' errors into :class:`InputFileError`."""
    try:
        table = pd.read_csv(path, sep="\t", na_values="n/a", **kwargs)
    except FileNotFoundError as err:
        raise InputFileError(path, f"does not exist; expected the {kind}") from err
    except pd.errors.EmptyDataError as err:
        raise InputFileError(
            path, f"is empty; expected the {kind} as a tab-separated table with a header row"
        ) from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputFileError(
            path, f"cannot be read as a tab-separated table ({_reason(err)}); expected the {kind}"
        ) from err
    if len(table.columns) == 1 and "," in str(table.columns[0]):
        raise InputFileError(
            path,
            f"seems to be comma-separated (its one column is named '{table.columns[0]}'); "
            f"BIDS tables, like the {kind}, are tab-separated",
        )
    return table


def _reason(err: BaseException) -> str:
    """One line naming an exception: its type and the first line of its message."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _missing_columns(
    path: str | Path, table: pd.DataFrame, required: Sequence[str], kind: str, why: str
) -> None:
    """Raise :class:`InputFileError` naming the required columns a table lacks."""
    missing = [column for column in required if column not in table.columns]
    if not missing:
        return
    present = [str(c) for c in table.columns]
    shown = present if len(present) <= 20 else [*present[:20], f"... ({len(present)} in all)"]
    raise InputFileError(
        path, f"lacks the column(s) {missing} {why}; the {kind} has the columns {shown}"
    )


def _numbers(
    path: str | Path,
    table: pd.DataFrame,
    column: str,
    what: str,
    *,
    allow_missing: bool = False,
    row_names: Sequence[str] | None = None,
) -> pd.Series:
    """A column as floats, or :class:`InputFileError` naming the rows that are not numbers.

    ``n/a`` (NaN) is accepted only with ``allow_missing``; rows are named by
    ``row_names`` (e.g. participant_id) or by their line in the file.
    """
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if not allow_missing:
        bad |= values.isna()
    bad |= np.isinf(values.to_numpy(dtype=float))
    if not bad.any():
        return values.astype(float)
    rows = np.flatnonzero(bad.to_numpy())
    labels = (
        [f"{row_names[r]}" for r in rows]
        if row_names is not None
        else [f"line {r + 2}" for r in rows]
    )
    shown = ", ".join(
        f"{label} has {_shown(raw.iloc[r])}" for label, r in zip(labels[:5], rows[:5], strict=False)
    )
    more = f" (and {len(rows) - 5} more rows)" if len(rows) > 5 else ""
    allowed = " or n/a" if allow_missing else ""
    raise InputFileError(
        path, f"column '{column}' must hold {what}{allowed} in every row, but {shown}{more}"
    )


def _shown(value: Any) -> str:
    """A cell's value as the message shows it: text quoted, a missing value as n/a."""
    if isinstance(value, str):
        return repr(value)
    return "n/a" if pd.isna(value) else f"{value}"


def read_events(
    path: str | Path, conditions: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Read an ``events.tsv``, check what the first level needs of it, name the conditions.

    Parameters
    ----------
    path : str or pathlib.Path
        A run's BIDS events file.
    conditions : mapping, optional
        ``analysis.conditions``: each condition (needle, swab) and the
        study's trial types that make it (case-sensitive); by default each
        condition is the trial type of its own name. Each condition must
        occur. Any other trial type is logged as a warning: the GLM models it
        as a nuisance regressor of its own, in no contrast.

    Returns
    -------
    pandas.DataFrame
        The table, with ``onset`` and ``duration`` as floats (seconds) and the
        trial types of each condition renamed to the condition.

    Raises
    ------
    InputFileError
        If the file is empty or not a table, lacks ``onset``, ``duration`` or
        ``trial_type``, holds no event, has an onset or duration that is not a
        finite number (or a negative duration), a row without trial type, or
        no event of a condition.
    """
    conditions = conditions or {c: (c,) for c in CONDITIONS}
    kind = "events of a run (onset, duration, trial_type)"
    table = _read_table(path, kind, dtype={"trial_type": str})
    _missing_columns(
        path,
        table,
        ["onset", "duration", "trial_type"],
        "events file",
        "that every BIDS events file needs",
    )
    if table.empty:
        raise InputFileError(
            path,
            "holds no event (only a header row); expected the run's blocks of "
            + " and ".join(f"{c} (trial_type {list(t)})" for c, t in conditions.items()),
        )
    table["onset"] = _numbers(path, table, "onset", "a finite number of seconds")
    table["duration"] = _numbers(path, table, "duration", "a finite number of seconds")
    negative = np.flatnonzero(table["duration"].to_numpy() < 0)
    if negative.size:
        raise InputFileError(
            path,
            f"column 'duration' must not be negative, but line {negative[0] + 2} has "
            f"{table['duration'].iloc[negative[0]]:g}",
        )
    untyped = np.flatnonzero(table["trial_type"].isna().to_numpy())
    if untyped.size:
        lines = ", ".join(str(r + 2) for r in untyped[:5])
        raise InputFileError(
            path, f"column 'trial_type' is empty or n/a on line(s) {lines}; every event needs one"
        )
    present = list(dict.fromkeys(table["trial_type"]))
    missing = {c: list(t) for c, t in conditions.items() if not set(t) & set(present)}
    if missing:
        wanted = [t for types in missing.values() for t in types]
        hints = [
            f"'{found}' for '{name}'"
            for name in wanted
            for found in present
            if found.strip().lower() == name.lower()
        ]
        hint = (
            f"; trial types are case-sensitive and exact, and the file has {', '.join(hints)}"
            if hints
            else ""
        )
        named = "; ".join(
            f"{condition} = trial_type {types}" for condition, types in missing.items()
        )
        raise InputFileError(
            path,
            f"has no event of the condition(s) {named} (its trial_type values are "
            f"{present}); 'analysis.conditions' says which trial types are the needle and "
            f"the swab condition{hint}",
        )
    rename = {t: c for c, types in conditions.items() for t in types}
    extra = [t for t in present if t not in rename]
    if extra:
        logger.warning(
            "events file '%s' has the trial type(s) %s besides the conditions %s: each is "
            "modelled as a nuisance regressor of its own and enters no contrast",
            path,
            extra,
            dict(conditions),
        )
    table["trial_type"] = table["trial_type"].map(lambda t: rename.get(t, t))
    return table


def check_bold(path: str | Path, tr_s: float, source: str = "'design.tr'") -> nib.Nifti1Image:
    """Check that a BOLD run can be read and is 4D; compare its header's repetition time.

    The header is read first; then the run's last volume, which makes
    nibabel decompress the whole file and so finds a truncated or corrupt one
    before nilearn would fail on it.

    Parameters
    ----------
    path : str or pathlib.Path
        A run's ``bold.nii.gz``.
    tr_s : float
        The expected repetition time (s).
    source : str
        Where ``tr_s`` comes from, for the message.

    Returns
    -------
    nibabel.Nifti1Image
        The image, loaded lazily (its data are not kept in memory).

    Raises
    ------
    InputFileError
        If the file is not a NIfTI image, is not 4D, or its data cannot be
        read to the end. A header repetition time (in s, or converted from
        ms) other than ``tr_s`` is logged as a warning.
    """
    expected = "a 4D NIfTI BOLD run (x, y, z, time)"
    try:
        img = nib.load(path)
    except FileNotFoundError as err:
        raise InputFileError(path, f"does not exist; expected {expected}") from err
    except (ImageFileError, OSError, EOFError, zlib.error, ValueError) as err:
        raise InputFileError(
            path, f"cannot be read as a NIfTI image ({_reason(err)}); expected {expected}"
        ) from err
    if img.ndim != 4:
        raise InputFileError(
            path, f"is a {img.ndim}D image of shape {img.shape}; expected {expected}"
        )
    header_tr = float(img.header.get_zooms()[3])
    unit = img.header.get_xyzt_units()[1]
    scale = {"msec": 1e-3, "usec": 1e-6}.get(unit, 1.0)
    shown = f"{header_tr:g} {unit}" if scale != 1.0 else f"{header_tr:g} s"
    header_tr *= scale
    if header_tr <= 0 or abs(header_tr - tr_s) > 1e-3:
        # BIDS takes the sidecar's RepetitionTime; a header that disagrees is
        # common in converted data (the validator reports it as a warning).
        logger.warning(
            "'%s' has a repetition time of %s in its header but %s is %g s; the analysis uses %g s",
            path,
            shown,
            source,
            tr_s,
            tr_s,
        )
    try:
        np.asarray(img.dataobj[..., -1])
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise InputFileError(
            path,
            f"is truncated or corrupt: its header promises {img.shape[3]} volumes of shape "
            f"{img.shape[:3]} but reading the data failed ({_reason(err)}); copy or "
            "export the file again",
        ) from err
    return img


def bids_label(name: str) -> str:
    """A name as a BIDS entity label: alphanumeric, camelCase at ``_``, ``-`` or space.

    ``willingness_to_harm`` becomes ``willingnessToHarm``; ``D`` stays ``D``.

    Raises
    ------
    ValueError
        If nothing alphanumeric is left.
    """
    words = [w for w in "".join(c if c.isalnum() else " " for c in name).split() if w]
    if not words:
        raise ValueError(f"'{name}' has no letter or digit to make a BIDS label of")
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def statmap_path(
    root: str | Path,
    subject: str | None,
    task: str,
    contrast: str,
    stat: str,
    desc: str | None = None,
    score: str | None = None,
) -> Path:
    """Path of a GLM statistical map, BIDS-derivative style.

    ``<root>/sub-XX/sub-XX_task-T_contrast-C_stat-S_statmap.nii.gz`` for a
    subject, ``<root>/group/task-T_contrast-C[_desc-D]_stat-S_statmap.nii.gz``
    for the group (``subject=None``). A group regression on a behavioural
    score adds ``_score-<label>`` after the contrast (``score`` is given as a
    label, see :func:`bids_label`).
    """
    desc_part = f"_desc-{desc}" if desc else ""
    if score:
        contrast = f"{contrast}_score-{score}"
    if subject is None:
        name = f"task-{task}_contrast-{contrast}{desc_part}_stat-{stat}_statmap.nii.gz"
        return Path(root) / "group" / name
    name = f"{subject}_task-{task}_contrast-{contrast}{desc_part}_stat-{stat}_statmap.nii.gz"
    return Path(root) / subject / name


def design_matrix_path(root: str | Path, subject: str, task: str, ext: str) -> Path:
    """Path of a subject's design matrices, all runs (``ext`` is ``tsv`` or ``png``)."""
    return Path(root) / subject / f"{subject}_task-{task}_design.{ext}"


def list_subjects(root: str | Path) -> list[str]:
    """Participant labels of a BIDS dataset, from ``participants.tsv`` or ``sub-*`` folders.

    Parameters
    ----------
    root : str or pathlib.Path
        Root of a BIDS dataset.

    Returns
    -------
    list of str
        Labels with the ``sub-`` prefix, in the file's (or sorted) order.

    Raises
    ------
    ValueError
        If ``root`` is not a BIDS dataset or holds no participant.
    """
    root = Path(root)
    if not (root / "dataset_description.json").is_file():
        raise ValueError(f"'{root}' is not a BIDS dataset (no dataset_description.json)")
    participants = root / "participants.tsv"
    if participants.is_file():
        table = pd.read_csv(participants, sep="\t", dtype=str)
        if "participant_id" not in table.columns:
            raise InputFileError(
                participants, "has no participant_id column; expected one row per participant"
            )
        subjects = [s if s.startswith("sub-") else f"sub-{s}" for s in table["participant_id"]]
    else:
        subjects = sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    if not subjects:
        raise ValueError(f"'{root}' holds no participant")
    return subjects
