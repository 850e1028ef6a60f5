"""BIDS names and readers/writers of the simulated dataset."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

__all__ = [
    "CONFOUNDS_PIPELINE",
    "STATISTICS",
    "bold_image",
    "bold_path",
    "confounds_path",
    "design_matrix_path",
    "events_path",
    "list_subjects",
    "read_confounds",
    "read_events",
    "read_phenotype",
    "statmap_path",
    "to_volume",
]


#: Statistic labels (``stat-<label>``) written per contrast.
STATISTICS = ("effect", "variance", "z")

#: Name of the derivative pipeline that holds the motion confounds.
CONFOUNDS_PIPELINE = "simulated-motion"


def _func(root: Path, subject: str) -> Path:
    return Path(root) / subject / "func"


def bold_path(root: str | Path, subject: str, task: str, run: int) -> Path:
    """Path of a BOLD run: ``sub-XX/func/sub-XX_task-T_run-N_bold.nii.gz``."""
    return _func(Path(root), subject) / f"{subject}_task-{task}_run-{run}_bold.nii.gz"


def events_path(root: str | Path, subject: str, task: str, run: int) -> Path:
    """Path of a run's ``events.tsv``."""
    return _func(Path(root), subject) / f"{subject}_task-{task}_run-{run}_events.tsv"


def confounds_path(root: str | Path, subject: str, task: str, run: int) -> Path:
    """Path of a run's confounds in the motion derivative (fMRIPrep naming)."""
    folder = _func(Path(root) / "derivatives" / CONFOUNDS_PIPELINE, subject)
    return folder / f"{subject}_task-{task}_run-{run}_desc-confounds_timeseries.tsv"


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
        3D, or 4D with time last, zero outside the mask.
    """
    values = np.asarray(values)
    if values.ndim == 1:
        volume = np.zeros(mask.shape, dtype=values.dtype)
        volume[mask] = values
        return volume
    volume = np.zeros((*mask.shape, values.shape[0]), dtype=values.dtype)
    volume[mask] = values.T
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


def read_events(path: str | Path) -> pd.DataFrame:
    """Read an ``events.tsv`` and check its BIDS columns.

    Raises
    ------
    ValueError
        If the file lacks ``onset``, ``duration`` or ``trial_type``.
    """
    table = pd.read_csv(path, sep="\t", na_values="n/a")
    missing = {"onset", "duration", "trial_type"} - set(table.columns)
    if missing:
        raise ValueError(f"events file '{path}' lacks the column(s) {sorted(missing)}")
    return table


def read_confounds(path: str | Path, columns: list[str]) -> pd.DataFrame:
    """Read selected confound columns, with ``n/a`` (first-row derivatives) set to 0.

    Raises
    ------
    ValueError
        If a requested column is not in the file.
    """
    table = pd.read_csv(path, sep="\t", na_values="n/a")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"confounds file '{path}' lacks the column(s) {missing} named in "
            f"'analysis.confounds'; it has {list(table.columns)}"
        )
    return table[columns].fillna(0.0)


def read_phenotype(path: str | Path, scores: list[str]) -> pd.DataFrame:
    """Read the moral dilemma phenotype file, indexed by ``participant_id``.

    Raises
    ------
    ValueError
        If ``participant_id`` or a requested score column is missing.
    """
    table = pd.read_csv(path, sep="\t", na_values="n/a")
    missing = [c for c in ["participant_id", *scores] if c not in table.columns]
    if missing:
        raise ValueError(f"phenotype file '{path}' lacks the column(s) {missing}")
    return table.set_index("participant_id")


def statmap_path(
    root: str | Path, subject: str | None, task: str, contrast: str, stat: str,
    desc: str | None = None,
) -> Path:
    """Path of a GLM statistical map, BIDS-derivative style.

    ``<root>/sub-XX/sub-XX_task-T_contrast-C_stat-S_statmap.nii.gz`` for a
    subject, ``<root>/group/task-T_contrast-C[_desc-D]_stat-S_statmap.nii.gz``
    for the group (``subject=None``).
    """
    desc_part = f"_desc-{desc}" if desc else ""
    if subject is None:
        name = f"task-{task}_contrast-{contrast}{desc_part}_stat-{stat}_statmap.nii.gz"
        return Path(root) / "group" / name
    name = f"{subject}_task-{task}_contrast-{contrast}{desc_part}_stat-{stat}_statmap.nii.gz"
    return Path(root) / subject / name


def design_matrix_path(root: str | Path, subject: str, task: str, run: int, ext: str) -> Path:
    """Path of a run's design matrix (``ext`` is ``tsv`` or ``png``)."""
    return Path(root) / subject / f"{subject}_task-{task}_run-{run}_design.{ext}"


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
            raise ValueError(f"'{participants}' has no participant_id column")
        subjects = [s if s.startswith("sub-") else f"sub-{s}" for s in table["participant_id"]]
    else:
        subjects = sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    if not subjects:
        raise ValueError(f"'{root}' holds no participant")
    return subjects
