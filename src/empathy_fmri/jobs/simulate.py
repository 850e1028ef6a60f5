"""Jobs simulate_*: write the simulated study as a BIDS dataset and, kept apart, its truth."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from empathy_fmri import __version__
from empathy_fmri.config import config_hash
from empathy_fmri.config.sections import BehaviourConfig, DesignConfig, SimulationConfig
from empathy_fmri.io.atomic import link_or_copy, write_json, write_nifti, write_text, write_tsv
from empathy_fmri.io.bids import to_volume
from empathy_fmri.io.layout import (
    FMRIPREP_FOLDER,
    SIMULATED_SPACE,
    brain_mask_path,
    fmriprep_confounds_path,
    preproc_bold_path,
    raw_bold_path,
    raw_events_path,
    run_key,
)
from empathy_fmri.pipeline.simulated_subject import simulate_subject_data
from empathy_fmri.simulation.design import BlockDesign, subject_events
from empathy_fmri.simulation.population import (
    draw_participant,
    draw_subject,
    participant_id,
    population_correlations,
    subject_behaviour,
)
from empathy_fmri.simulation.subject import SimulationSpace, build_space

__all__ = [
    "BIDS_VERSION",
    "write_dataset_metadata",
    "write_phenotype",
    "write_subject",
    "write_study_events",
    "write_subject_events",
    "write_truth",
]

logger = logging.getLogger(__name__)

BIDS_VERSION = "1.10.0"


def _fingerprint(simulation: SimulationConfig, n_subjects: int | None = None) -> str:
    parts: dict[str, Any] = {"simulation": simulation}
    if n_subjects is not None:
        parts["n_subjects"] = n_subjects
    return config_hash(parts)


def _generated_by(simulation: SimulationConfig, n_subjects: int) -> list[dict[str, str]]:
    return [
        {
            "Name": "empathy-fmri",
            "Version": __version__,
            "Description": (
                f"Simulated from a config whose simulation sections hash to "
                f"{_fingerprint(simulation, n_subjects)}"
            ),
        }
    ]


def write_subject(
    simulation: SimulationConfig,
    n_subjects: int,
    subject_index: int,
    bids_root: str | Path,
    truth_root: str | Path,
    space: SimulationSpace | None = None,
    write_events: bool = True,
) -> None:
    """Simulate one subject and write its BIDS files and hidden truth.

    Writes, for every run, the raw BOLD image and its ``events.tsv`` (unless
    ``write_events`` is False), and
    in the fMRIPrep-style derivative (``derivatives/fmriprep``) the same image
    as ``desc-preproc`` BOLD in :data:`SIMULATED_SPACE`, its brain mask and
    the confounds (fMRIPrep's global, CSF and white-matter signals of the
    written image, and the head-motion columns); and to ``truth_root`` the
    subject's true needle-minus-swab map and the noise parameters used.

    Parameters
    ----------
    simulation : SimulationConfig
        The simulation's sections.
    n_subjects : int
        Participants in the study (sets the label width).
    subject_index : int
        Zero-based subject index.
    bids_root, truth_root : str or pathlib.Path
        Roots of the BIDS dataset and of the truth.
    space : SimulationSpace, optional
        Reused across subjects when given.
    write_events : bool
        Write the events files too. The workflow writes them in a job of
        their own (:func:`write_subject_events`, the same events), which does
        not depend on the signal and noise sections.
    """
    space = space or build_space(simulation.anatomy, simulation.regions, simulation.signal)
    simulated = simulate_subject_data(simulation, subject_index, n_subjects, space)
    truth = simulated.truth
    subject = truth.participant_id
    task = simulation.task_name
    derivatives = Path(bids_root) / FMRIPREP_FOLDER
    mask = nib.Nifti1Image(space.mask.astype(np.uint8), space.anatomy.affine)
    mask.set_sform(space.anatomy.affine, code=4)
    mask.set_qform(space.anatomy.affine, code=4)
    mask.header.set_xyzt_units("mm")
    run_parameters = []
    for run_number, (run, image) in enumerate(
        zip(simulated.runs, simulated.images, strict=True), start=1
    ):
        key = run_key(subject, task, run_number)
        preproc = preproc_bold_path(derivatives, key, SIMULATED_SPACE)
        write_nifti(preproc, image)
        write_json(
            preproc.with_name(preproc.name.replace(".nii.gz", ".json")),
            {
                "RepetitionTime": float(simulation.design.tr),
                "TaskName": task,
                "SkullStripped": False,
                "Sources": [f"bids:raw:{raw_bold_path('', key).as_posix()}"],
            },
        )
        write_nifti(brain_mask_path(derivatives, key, SIMULATED_SPACE), mask)
        # The simulation starts in MNI space, so the raw run is the same image
        # (a hard link): there is no native-space acquisition to simulate.
        link_or_copy(preproc, raw_bold_path(bids_root, key))
        if write_events:
            _write_events(raw_events_path(bids_root, key), run.events)
        confounds = fmriprep_confounds_path(derivatives, key)
        # 8 digits: a tissue mean of about 1000 keeps 1e-5 of it, far below its noise
        write_tsv(confounds, run.confounds, float_format="%.8g")
        write_json(confounds.with_suffix(".json"), _confounds_sidecar())
        run_parameters.append({"run": run_number, **run.parameters})
    truth_dir = Path(truth_root) / subject
    nms = np.zeros(space.mask.sum())
    for name, profile in space.region_profiles.items():
        nms += truth.needle_minus_swab_psc[name] * profile
    write_nifti(
        truth_dir / f"{subject}_desc-needleMinusSwab_psc.nii.gz",
        nib.Nifti1Image(to_volume(nms.astype(np.float32), space.mask), space.anatomy.affine),
    )
    write_json(
        truth_dir / f"{subject}_truth.json",
        {
            "participant_id": subject,
            "trait": truth.trait,
            "needle_minus_swab_psc": truth.needle_minus_swab_psc,
            "D_true": truth.d_true,
            "U_true": truth.u_true,
            "hrf_delay_s": truth.hrf_delay_s,
            "hrf_undershoot_s": truth.hrf_undershoot_s,
            "runs": run_parameters,
            "config_hash": _fingerprint(simulation),
        },
    )


def _write_events(path: Path, events: pd.DataFrame) -> None:
    events = events.copy()
    events["onset"] = events["onset"].round(3)
    write_tsv(path, events)


def write_subject_events(
    seed: int,
    task: str,
    design: DesignConfig,
    n_subjects: int,
    subject_index: int,
    bids_root: str | Path,
) -> None:
    """Write one subject's ``events.tsv`` of every run.

    The same events :func:`write_subject` simulates the BOLD data with
    (:func:`empathy_fmri.simulation.design.subject_events`); they depend on
    the seed, the design and the subject only.

    Parameters
    ----------
    seed : int
        The study's master seed.
    task : str
        BIDS task label.
    design : DesignConfig
        The ``design`` section.
    n_subjects : int
        Participants in the study (sets the label width).
    subject_index : int
        Zero-based subject index.
    bids_root : str or pathlib.Path
        Root of the BIDS dataset.
    """
    subject = participant_id(subject_index, n_subjects)
    block_design = BlockDesign.from_config(design)
    for run_number, events in enumerate(subject_events(block_design, seed, subject_index), start=1):
        _write_events(raw_events_path(bids_root, run_key(subject, task, run_number)), events)


def write_study_events(
    seed: int, task: str, design: DesignConfig, n_subjects: int, bids_root: str | Path
) -> None:
    """Write every simulated subject's ``events.tsv`` of every run.

    One job for the study: the files are small and a job per subject spent
    its time starting up. Each subject's events are those of
    :func:`write_subject_events`.

    Parameters
    ----------
    seed : int
        The study's master seed.
    task : str
        BIDS task label.
    design : DesignConfig
        The ``design`` section.
    n_subjects : int
        Participants in the study (``sub-01`` to ``participant_id(n_subjects - 1)``).
    bids_root : str or pathlib.Path
        Root of the BIDS dataset.
    """
    for index in range(n_subjects):
        write_subject_events(seed, task, design, n_subjects, index, bids_root)


def write_phenotype(
    seed: int, behaviour: BehaviourConfig, n_subjects: int, bids_root: str | Path
) -> None:
    """Write ``participants.tsv`` and the moral dilemma scores (``phenotype/``), with sidecars.

    They depend on the seed, the behaviour section and the number of
    subjects only (:func:`empathy_fmri.simulation.population.draw_participant`),
    so a change of the brain's signal or noise leaves them as they are.

    Parameters
    ----------
    seed : int
        The study's master seed.
    behaviour : BehaviourConfig
        The dilemma task and process-dissociation models.
    n_subjects : int
        Participants in the study.
    bids_root : str or pathlib.Path
        Root of the BIDS dataset.
    """
    root = Path(bids_root)
    people = [draw_participant(seed, behaviour, index, n_subjects) for index in range(n_subjects)]
    participants = pd.DataFrame(
        {
            "participant_id": [p.participant_id for p in people],
            "age": [p.age for p in people],
            "sex": [p.sex for p in people],
        }
    )
    write_tsv(root / "participants.tsv", participants)
    write_json(
        root / "participants.json",
        {
            "age": {"Description": "Age of the participant", "Units": "year"},
            "sex": {
                "Description": "Sex of the participant",
                "Levels": {"F": "female", "M": "male"},
            },
        },
    )
    phenotype = pd.DataFrame(
        [
            {
                "participant_id": person.participant_id,
                **subject_behaviour(seed, behaviour, index, person),
            }
            for index, person in enumerate(people)
        ]
    )
    phenotype["pd_edge_case"] = phenotype["pd_edge_case"].map({True: "yes", False: "no"})
    write_tsv(root / "phenotype" / "moral_dilemmas.tsv", phenotype)
    write_json(root / "phenotype" / "moral_dilemmas.json", _phenotype_sidecar(behaviour))


def write_dataset_metadata(
    simulation: SimulationConfig, n_subjects: int, bids_root: str | Path
) -> None:
    """Write the dataset-level BIDS files: description, README, task and events sidecars.

    The description's ``GeneratedBy`` names the hash of every simulation
    section, so this job follows every change of them; the participants and
    the phenotype, which do not depend on the brain, are
    :func:`write_phenotype`'s.

    Parameters
    ----------
    simulation : SimulationConfig
        The simulation's sections.
    n_subjects : int
        Participants in the study.
    bids_root : str or pathlib.Path
        Root of the BIDS dataset.
    """
    from empathy_fmri.anatomy.template import load_anatomy
    from empathy_fmri.simulation.motion import slice_acquisition_times

    root = Path(bids_root)
    task = simulation.task_name
    design = BlockDesign.from_config(simulation.design)
    n_slices = load_anatomy(
        simulation.anatomy.voxel_size_mm, simulation.anatomy.grey_matter_threshold
    ).shape[2]
    slice_timing = (
        {}
        if simulation.noise.slice_order == "none"
        else {
            "SliceTiming": [
                round(float(t), 6)
                for t in slice_acquisition_times(
                    n_slices, design.tr_s, simulation.noise.slice_order
                )
            ],
            "SliceEncodingDirection": "k",
        }
    )
    write_json(
        root / "dataset_description.json",
        {
            "Name": "empathy-fmri simulated empathy-for-pain study",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "License": "CC0",
            "Authors": ["empathy-fmri simulator"],
            "HowToAcknowledge": "Simulated data; cite the empathy-fmri repository.",
            "GeneratedBy": _generated_by(simulation, n_subjects),
        },
    )
    write_text(root / "README", _README.format(n=n_subjects, task=task))
    write_json(
        root / f"task-{task}_bold.json",
        {
            "TaskName": task,
            "RepetitionTime": design.tr_s,
            "TaskDescription": (
                "Participants watched short videos of a needle piercing a hand (needle) "
                "or a cotton swab touching it (swab), in blocks separated by fixation."
            ),
            "Instructions": "Watch the videos attentively.",
            "MagneticFieldStrength": 3,
            "Manufacturer": "empathy-fmri simulator",
            "SpatialReference": f"{SIMULATED_SPACE} (nilearn's MNI152 template)",
            **slice_timing,
        },
    )
    write_json(
        root / f"task-{task}_events.json",
        {
            "trial_type": {
                "Description": "Video shown in the block",
                "Levels": {
                    "needle": "a needle piercing a hand",
                    "swab": "a cotton swab touching a hand",
                },
            },
            "block": {"Description": "Block number within the run"},
        },
    )
    derivative = root / FMRIPREP_FOLDER
    write_json(
        derivative / "dataset_description.json",
        {
            "Name": "Simulated fMRIPrep-style derivatives: preprocessed BOLD, masks, confounds",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "derivative",
            "GeneratedBy": _generated_by(simulation, n_subjects),
            "SourceDatasets": [{"URL": "bids:raw:."}],
            "DatasetLinks": {"raw": "../.."},
        },
    )
    # BIDS has no name for confound time series (fMRIPrep writes the same
    # .bidsignore). bids-validator-deno 2.2.7-2.4.1 reads it when the derivative is
    # validated on its own and under --recursive; 3.0.x only on its own (it prunes
    # nested dot files before it validates derivatives), hence the test extra's pin.
    write_text(
        derivative / ".bidsignore",
        "*_desc-confounds_timeseries.tsv\n*_desc-confounds_timeseries.json\n",
    )


def write_truth(simulation: SimulationConfig, n_subjects: int, truth_root: str | Path) -> None:
    """Write the study-level ground truth.

    ``participants_truth.tsv`` (trait, ``true_<ROI>``, ``D_true``, ``U_true``),
    each ROI's mask, the mean true needle-minus-swab map, the noise
    parameters, and ``population_correlations.tsv``.

    Parameters
    ----------
    simulation : SimulationConfig
        The simulation's sections.
    n_subjects : int
        Participants in the study.
    truth_root : str or pathlib.Path
        Root of the truth folder.
    """
    root = Path(truth_root)
    space = build_space(simulation.anatomy, simulation.regions, simulation.signal)
    rows = []
    for index in range(n_subjects):
        subject = draw_subject(simulation, index, n_subjects)
        row = {"participant_id": subject.participant_id, "trait": subject.trait}
        row.update({f"true_{k}": v for k, v in subject.needle_minus_swab_psc.items()})
        row.update(
            D_true=subject.d_true,
            U_true=subject.u_true,
            hrf_delay_s=subject.hrf_delay_s,
            hrf_undershoot_s=subject.hrf_undershoot_s,
        )
        rows.append(row)
    write_tsv(root / "participants_truth.tsv", pd.DataFrame(rows), float_format="%.8g")
    affine = space.anatomy.affine
    for name, mask in space.region_masks.items():
        mask_img = nib.Nifti1Image(mask.astype(np.uint8), affine)
        write_nifti(root / f"region-{name}_mask.nii.gz", mask_img)
    write_nifti(
        root / "visual_mask.nii.gz", nib.Nifti1Image(space.visual_mask.astype(np.uint8), affine)
    )
    mean_map = np.zeros(space.mask.sum())
    for name, profile in space.region_profiles.items():
        mean_map += simulation.signal.rois[name].mean_psc * profile
    write_nifti(
        root / "desc-needleMinusSwab_mean_psc.nii.gz",
        nib.Nifti1Image(to_volume(mean_map.astype(np.float32), space.mask), affine),
    )
    write_json(
        root / "noise_parameters.json",
        {
            "grey_matter_median_baseline": space.grey_baseline,
            "total_noise_sd": space.grey_baseline / simulation.noise.tsnr,
            "per_run": "each subject's sub-XX_truth.json (runs): the noise solved for each "
            "run (the thermal plus system SD, the system noise's spectral exponent, the "
            "smoothing kernel, the physiological and drift amplitudes that give the "
            "configured shares) and each component's grey-matter variance after the "
            "1/128 Hz high-pass and motion regression",
            "config_noise": simulation.noise.to_dict(),
            "n_scans_per_run": BlockDesign.from_config(simulation.design).n_scans,
            "config_hash": _fingerprint(simulation, n_subjects),
        },
    )
    write_tsv(
        root / "population_correlations.tsv",
        population_correlations(simulation.signal, simulation.behaviour),
    )


_TISSUE_DESCRIPTIONS = {
    "global_signal": "the brain mask (desc-brain_mask)",
    "csf": "the CSF mask: CSF probability (1 - grey - white of nilearn's MNI152 templates) "
    "above 0.99 in the brain mask",
    "white_matter": "the white-matter mask: white-matter probability above 0.99 in the brain "
    "mask, after removing voxels within 3 mm of grey-matter probability above "
    "0.05 (fMRIPrep's erosion at the grey-matter border)",
    "csf_wm": "the combined mask: CSF plus white-matter probability above 0.99 in the brain "
    "mask, after the same grey-matter removal",
}


def _confounds_sidecar() -> dict[str, Any]:
    sidecar: dict[str, Any] = {}
    for name, mask in _TISSUE_DESCRIPTIONS.items():
        sidecar[name] = {
            "Description": f"Mean BOLD intensity of each volume over {mask}",
            "Method": "Mean",
        }
        if name == "csf_wm":
            continue
        sidecar[f"{name}_derivative1"] = {
            "Description": f"Backward difference of {name} (n/a in the first volume)"
        }
        sidecar[f"{name}_derivative1_power2"] = {"Description": f"Square of {name}_derivative1"}
        sidecar[f"{name}_power2"] = {"Description": f"Square of {name}"}
    for axis in "xyz":
        sidecar[f"trans_{axis}"] = {"Description": f"Translation along {axis}", "Units": "mm"}
        sidecar[f"rot_{axis}"] = {"Description": f"Rotation about {axis}", "Units": "rad"}
    sidecar["framewise_displacement"] = {
        "Description": "Framewise displacement (Power et al. 2012, 50 mm head radius)",
        "Units": "mm",
    }
    return sidecar


def _phenotype_sidecar(behaviour: BehaviourConfig) -> dict[str, Any]:
    return {
        "MeasurementToolMetadata": {
            "Description": (
                "Moral dilemma task with congruent and incongruent dilemmas scored with the "
                "process-dissociation model of Conway & Gawronski (2013), "
                "J Pers Soc Psychol 104:216-235."
            ),
        },
        "congruent_harm_rejected": {
            "Description": f"Congruent dilemmas (of {behaviour.n_congruent}) in which harm "
            "was judged unacceptable"
        },
        "congruent_harm_accepted": {"Description": "Congruent dilemmas in which harm was accepted"},
        "incongruent_harm_rejected": {
            "Description": f"Incongruent dilemmas (of {behaviour.n_incongruent}) in which "
            "harm was judged unacceptable"
        },
        "incongruent_harm_accepted": {
            "Description": "Incongruent dilemmas in which harm was accepted"
        },
        "U": {
            "Description": "Utilitarian parameter: U = p(reject | congruent) - "
            "p(reject | incongruent). Can be negative when p(reject | incongruent) is larger."
        },
        "D": {
            "Description": "Deontological parameter: D = p(reject | incongruent) / (1 - U). "
            "Where U = 1 (all congruent and no incongruent dilemmas rejected) the formula "
            "divides by zero; there the two proportions are replaced by 1 - 1/(2 n) and "
            "1/(2 n) before estimating, and pd_edge_case is 'yes'."
        },
        "willingness_to_harm": {
            "Description": "Share of incongruent dilemmas in which harm was accepted",
            "Units": "proportion",
        },
        "pd_edge_case": {
            "Description": "Whether the U = 1 correction was applied",
            "Levels": {"yes": "corrected", "no": "estimated as is"},
        },
    }


_README = """\
Simulated empathy-for-pain fMRI study (task-{task}), {n} participants.

Made by empathy-fmri from a configuration file; every file can be traced to it
through the config hash in dataset_description.json. Participants watched
blocks of videos of a needle piercing a hand (needle) or a cotton swab touching
it (swab). BOLD images are in MNI space (nilearn's MNI152 template grid), not
in native space: the simulation starts from a standard brain, so the raw runs
and derivatives/fmriprep's desc-preproc runs are the same images. That
derivative is laid out as fMRIPrep writes it: preprocessed BOLD, brain masks and
confounds (desc-confounds_timeseries.tsv, fMRIPrep's column names: global, CSF
and white-matter signals, head motion, framewise displacement).
phenotype/moral_dilemmas.tsv holds a moral dilemma task scored with the
process-dissociation model (Conway & Gawronski 2013).
"""
