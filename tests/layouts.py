"""Datasets laid out by others (issue 12), for the query-layer and end-to-end tests.

- :func:`fake_bids_on_mni_grid`: nilearn's own fake-BIDS generator
  (``nilearn._utils.data_gen.create_fake_bids_dataset``): derivatives straight
  under ``derivatives/``, sessions, two spaces, TR only in the raw per-run
  sidecars, headers that disagree with them, fMRIPrep's confounds columns.
- :func:`write_ds006243_like`: a dataset shaped like OpenNeuro ds006243
  (fMRIPrep's ``space-MNI152NLin2009cAsym_res-2`` names, TR 2.5 s in per-run
  sidecars, runs that differ between subjects, other-pain / other-no-pain
  trial types with cue and anticipation events, and a confounds file with
  fMRIPrep's full column set, taken from the real one nilearn ships).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn._utils.data_gen import create_fake_bids_dataset

from empathy_fmri.anatomy.spheres import sphere_masks
from empathy_fmri.anatomy.template import load_anatomy
from empathy_fmri.io.bids import bold_image
from empathy_fmri.task.hrf import condition_regressors

__all__ = [
    "DS_SPACE",
    "DS_TASK",
    "DS_TR_S",
    "DS_TRIALS",
    "fake_bids_on_mni_grid",
    "real_confounds",
    "write_ds006243_like",
    "write_phenotype",
]

DS_TASK = "pain"
DS_SPACE = "MNI152NLin2009cAsym"
DS_TR_S = 2.5
DS_TRIALS = ["cue", "anticipation", "otherpain", "othernopain", "selfpain", "selfnopain"]
SCORES = ("willingness_to_harm", "D", "U")


def write_phenotype(root: Path, subjects: Sequence[str], seed: int) -> None:
    """A phenotype table with the three default scores (random, for the study's shape only)."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"participant_id": list(subjects)})
    for score in SCORES:
        table[score] = rng.uniform(0, 1, len(subjects)).round(3)
    (root / "phenotype").mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "phenotype" / "moral_dilemmas.tsv", sep="\t", index=False)


def fake_bids_on_mni_grid(base: Path, n_sub: int, voxel_mm: int | None = None) -> Path:
    """nilearn's fake BIDS dataset (two sessions of one run each, task ``empathy``).

    With ``voxel_mm`` the dataset is made analysable, and nothing else is
    changed: nilearn's images are 4 x 4 x 4 voxels of 1 mm at the origin
    (identity affine), a grid that holds no a-priori ROI, so each ``space-MNI``
    run (and its brain mask) is rewritten on nilearn's MNI152 grid of that
    voxel size, with nilearn's number of volumes and header TR (1 s, which
    disagrees with the sidecars' 1.5 s, as nilearn's does); nilearn's events
    reach 100 s while its runs end at 45 s, so the events that start after the
    run has ended are left out; nilearn writes no ``dataset_description.json``
    (BIDS requires one) and no phenotype, so both are added.

    Parameters
    ----------
    base : pathlib.Path
        Folder to create the dataset in.
    n_sub : int
        Participants.
    voxel_mm : int, optional
        Put the MNI runs on this MNI grid (see above); None keeps nilearn's files.

    Returns
    -------
    pathlib.Path
        The dataset's root.
    """
    root = Path(
        create_fake_bids_dataset(
            base_dir=base,
            n_sub=n_sub,
            n_ses=2,
            tasks=["empathy"],
            n_runs=[1],
            n_voxels=4,
        )
    )
    if voxel_mm is None:
        return root
    anatomy = load_anatomy(voxel_mm)
    rng = np.random.default_rng(11)
    n_voxels = int(anatomy.brain_mask.sum())
    runs = "derivatives/sub-*/ses-*/func/*_space-MNI_desc-preproc_bold.nii.gz"
    for bold in sorted(root.glob(runs)):
        original = nib.load(bold)
        n_scans, header_tr = original.shape[3], float(original.header.get_zooms()[3])
        data = 1000.0 + 10.0 * rng.standard_normal((n_scans, n_voxels))
        bold_image(data, anatomy.brain_mask, anatomy.affine, header_tr).to_filename(bold)
        mask = bold.with_name(bold.name.replace("_desc-preproc_bold", "_desc-brain_mask"))
        nib.Nifti1Image(anatomy.brain_mask.astype(np.uint8), anatomy.affine).to_filename(mask)
        raw = root / bold.relative_to(root / "derivatives")
        events = raw.with_name(
            raw.name.replace("_space-MNI_desc-preproc_bold.nii.gz", "_events.tsv")
        )
        sidecar = json.loads(
            events.with_name(events.name.replace("_events.tsv", "_bold.json")).read_text()
        )
        table = pd.read_csv(events, sep="\t")
        table[table["onset"] < n_scans * sidecar["RepetitionTime"]].to_csv(
            events, sep="\t", index=False
        )
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "nilearn fake BIDS", "BIDSVersion": "1.8.0"})
    )
    write_phenotype(root, [f"sub-{i:02d}" for i in range(1, n_sub + 1)], seed=5)
    return root


def real_confounds(n_rows: int, seed: int) -> pd.DataFrame:
    """fMRIPrep's full column set (nilearn's real file), its rows repeated to the run length."""
    from nilearn.interfaces.fmriprep import load_confounds

    data = Path(load_confounds.__code__.co_filename).parent / "data"
    real = pd.read_csv(data / "test-v21_desc-confounds_timeseries.tsv", sep="\t")
    # rows 1.. repeated (row 0 holds the n/a of the derivatives, as in any real file)
    rows = np.concatenate([[0], np.resize(np.arange(1, len(real)), n_rows - 1)])
    table = real.iloc[rows].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    for column in ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"):
        table[column] = 0.05 * rng.standard_normal(n_rows).cumsum()
    return table


def _events(n_scans: int) -> pd.DataFrame:
    onsets = np.arange(4.0, n_scans * DS_TR_S - 20, 12.5)
    kinds = [DS_TRIALS[2 + k % 4] for k in range(len(onsets))]
    return pd.DataFrame(
        {
            "onset": np.concatenate([onsets - 3.0, onsets - 1.5, onsets]).clip(0),
            "duration": [1.0] * len(onsets) + [1.5] * len(onsets) + [4.0] * len(onsets),
            "trial_type": ["cue"] * len(onsets) + ["anticipation"] * len(onsets) + kinds,
        }
    ).sort_values("onset")


def write_ds006243_like(
    root: Path,
    runs: Mapping[str, int] | None = None,
    voxel_mm: int = 8,
    n_scans: int = 60,
    effect: Mapping[str, Sequence[float]] | None = None,
    effect_psc: float = 0.0,
) -> Path:
    """Write a dataset shaped like ds006243 (see the module docstring).

    Parameters
    ----------
    root : pathlib.Path
        The dataset's root (created).
    runs : mapping of str to int, optional
        Runs per participant (default: sub-01 two, sub-02 one).
    voxel_mm : int
        MNI grid of the preprocessed runs.
    n_scans : int
        Volumes per run.
    effect : mapping of str to (x, y, z), optional
        Centres (MNI mm) of 10 mm spheres in grey matter where other-pain
        videos raise the signal by ``effect_psc`` percent (at the peak of a
        block's modelled response) over other-no-pain ones; none by default.
    effect_psc : float
        Size of that effect.

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    runs = dict(runs or {"sub-01": 2, "sub-02": 1})
    anatomy = load_anatomy(voxel_mm)
    brain = anatomy.brain_mask
    (root / "dataset_description.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "ds006243-like", "BIDSVersion": "1.8.0"})
    )
    ages = "".join(f"{subject}\t{23 + i}\n" for i, subject in enumerate(runs))
    (root / "participants.tsv").write_text("participant_id\tage\n" + ages)
    derivatives = root / "derivatives" / "fmriprep"
    active = np.zeros(int(brain.sum()))
    for mask in sphere_masks(dict(effect or {}), 10.0, anatomy.affine, anatomy.grey_mask).values():
        active[mask[brain]] = 1.0
    frame_times = np.arange(n_scans) * DS_TR_S
    rng = np.random.default_rng(3)
    for subject, n_runs in runs.items():
        for run in range(1, n_runs + 1):
            key = f"{subject}_task-{DS_TASK}_run-{run:02d}"
            func = root / subject / "func"
            func.mkdir(parents=True, exist_ok=True)
            (func / f"{key}_bold.json").write_text(json.dumps({"RepetitionTime": DS_TR_S}))
            events = _events(n_scans)
            events.to_csv(func / f"{key}_events.tsv", sep="\t", index=False)
            out = derivatives / subject / "func"
            out.mkdir(parents=True, exist_ok=True)
            data = 1000 + 10 * rng.standard_normal((n_scans, int(brain.sum())))
            if effect_psc:
                regressors = condition_regressors(
                    events.replace({"otherpain": "needle", "othernopain": "swab"}),
                    frame_times,
                    "glover",
                )
                data += 10 * effect_psc * np.outer(regressors["needle"], active)
            bold = out / f"{key}_space-{DS_SPACE}_res-2_desc-preproc_bold.nii.gz"
            bold_image(data, brain, anatomy.affine, DS_TR_S).to_filename(bold)
            mask = nib.Nifti1Image(brain.astype(np.uint8), anatomy.affine)
            mask.to_filename(out / f"{key}_space-{DS_SPACE}_res-2_desc-brain_mask.nii.gz")
            real_confounds(n_scans, run).to_csv(
                out / f"{key}_desc-confounds_timeseries.tsv", sep="\t", index=False, na_rep="n/a"
            )
            # a second space, as fMRIPrep writes by default: it must be told apart
            shutil.copy(bold, out / f"{key}_space-T1w_desc-preproc_bold.nii.gz")
    write_phenotype(root, list(runs), seed=7)
    return root
