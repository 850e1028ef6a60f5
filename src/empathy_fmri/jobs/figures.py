"""Jobs figure_*: read a run's files, compute what a figure shows, and draw it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from nilearn import image

from empathy_fmri.analysis.roi_timeseries import fit_roi_timeseries
from empathy_fmri.config.sections import DilemmasConfig
from empathy_fmri.evaluation.conclusion import MIN_SIGNIFICANT_STUDIES
from empathy_fmri.io.results import read_design_matrices, read_roi_centres
from empathy_fmri.plotting.behaviour_maps import fwe_r_map, plot_behaviour_map
from empathy_fmri.plotting.brain import plot_group_map, plot_rois, roi_mask_images
from empathy_fmri.plotting.design import plot_design_matrices, plot_task_timeline
from empathy_fmri.plotting.pilot_power import (
    plot_pilot_exaggeration,
    plot_pilot_power_curves,
    plot_pilot_r_distribution,
)
from empathy_fmri.plotting.power import plot_exaggeration, plot_power_curves, plot_r_distribution
from empathy_fmri.plotting.reliability import plot_reliability
from empathy_fmri.plotting.stats import plot_brain_behaviour, plot_roi_effects
from empathy_fmri.plotting.style import save_figure
from empathy_fmri.plotting.timeseries import plot_roi_timeseries


def figure_rois(
    centres_mm: Mapping[str, Sequence[float]],
    radius_mm: float,
    grey_matter_threshold: float,
    outputs: Sequence[str | Path],
    *,
    reference_path: str | Path | None = None,
    voxel_size_mm: int | None = None,
) -> None:
    """Build the a-priori ROI masks on the analysis grid, draw :func:`plot_rois`, save.

    Parameters
    ----------
    centres_mm : mapping of str to (x, y, z)
        The a-priori centres (config ``analysis.rois``), as the
        ``independent`` rows of ``roi_centres.tsv`` hold them.
    radius_mm : float
        ROI radius (mm).
    grey_matter_threshold : float
        Grey-matter probability threshold.
    outputs : sequence of path
        Figure files.
    reference_path : str or pathlib.Path, optional
        An image on the analysis grid (a BOLD run of a dataset from elsewhere).
    voxel_size_mm : int, optional
        Instead, the voxel size of a simulated dataset, which lies on the MNI152
        template's grid at that size (:func:`empathy_fmri.anatomy.template.load_anatomy`).
        Exactly one of ``reference_path`` and ``voxel_size_mm`` is given.

    Raises
    ------
    ValueError
        If not exactly one of ``reference_path`` and ``voxel_size_mm`` is given.
    """
    from empathy_fmri.anatomy.template import load_anatomy

    if (reference_path is None) == (voxel_size_mm is None):
        raise ValueError("give exactly one of reference_path and voxel_size_mm")
    if reference_path is not None:
        reference = image.load_img(reference_path)
        if reference.ndim == 4:
            reference = image.index_img(reference, 0)
    else:
        reference = load_anatomy(int(voxel_size_mm), grey_matter_threshold).mask_img()
    centres = {name: [float(c) for c in centre] for name, centre in centres_mm.items()}
    masks = roi_mask_images(centres, radius_mm, reference, grey_matter_threshold)
    voxel = float(abs(reference.affine[0, 0]))
    figure = plot_rois(
        masks,
        centres,
        title=f"A-priori ROIs: {radius_mm:g} mm spheres in grey matter, on a {voxel:g} mm grid",
    )
    save_figure(figure, outputs)


def figure_group_map(
    z_fwe_path: str | Path,
    summary_path: str | Path,
    centres_path: str | Path,
    radius_mm: float,
    grey_matter_threshold: float,
    outputs: Sequence[str | Path],
) -> None:
    """Draw the FWE-thresholded group z map with the a-priori ROIs outlined, save.

    Parameters
    ----------
    z_fwe_path : str or pathlib.Path
        Group z map, zero where the permutation FWE p is not below alpha.
    summary_path : str or pathlib.Path
        The group summary JSON (``alpha``, ``n_subjects``, ``n_voxels_fwe``,
        ``n_permutations``), for the title.
    centres_path : str or pathlib.Path
        ``roi_centres.tsv`` (``independent`` rows are outlined).
    radius_mm : float
        ROI radius (mm).
    grey_matter_threshold : float
        Grey-matter probability threshold.
    outputs : sequence of path
        Figure files.
    """
    z_img = image.load_img(z_fwe_path)
    summary = json.loads(Path(summary_path).read_text())
    centres = read_roi_centres(centres_path, "independent")
    masks = roi_mask_images(centres, radius_mm, z_img, grey_matter_threshold)
    title = (
        f"Group needle - swab, one-sample test (N = {summary['n_subjects']}): z where "
        f"FWE p < {summary['alpha']:g} ({summary['n_permutations']} sign-flip permutations), "
        f"{summary['n_voxels_fwe']} voxel{'' if summary['n_voxels_fwe'] == 1 else 's'}"
    )
    figure = plot_group_map(z_img, masks, threshold=1e-6, title=title, one_sided=True)
    save_figure(figure, outputs)


def figure_behaviour_map(
    r_path: str | Path,
    logp_fwe_path: str | Path,
    summary_path: str | Path,
    centres_path: str | Path,
    outputs: Sequence[str | Path],
) -> None:
    """Draw one score's whole-brain r map where FWE survives, ROI centres marked, save.

    Parameters
    ----------
    r_path, logp_fwe_path : str or pathlib.Path
        The score's r map and -log10 FWE p map.
    summary_path : str or pathlib.Path
        Its summary JSON (``score``, ``n_subjects``, ``alpha``, ``n_permutations``,
        ``n_voxels_fwe``, ``n_clusters_fwe``, ``cluster_min_voxels``), for the title.
    centres_path : str or pathlib.Path
        ``roi_centres.tsv`` (``independent`` rows are marked).
    outputs : sequence of path
        Figure files.
    """
    summary = json.loads(Path(summary_path).read_text())
    r_fwe = fwe_r_map(image.load_img(r_path), image.load_img(logp_fwe_path), summary["alpha"])
    centres = read_roi_centres(centres_path, "independent")
    title = (
        f"Needle - swab regressed on {summary['score']} (N = {summary['n_subjects']}): r where "
        f"FWE p < {summary['alpha']:g} ({summary['n_permutations']} permutations, two-sided): "
        f"{summary['n_voxels_fwe']} voxels, {summary['n_clusters_fwe']} clusters of "
        f">= {summary['cluster_min_voxels']}"
    )
    save_figure(plot_behaviour_map(r_fwe, title, centres), outputs)


def figure_task_timeline(
    events_path: str | Path,
    tr_s: float | None,
    hrf_model: str,
    outputs: Sequence[str | Path],
    *,
    design: Mapping[str, Any] | None = None,
    design_matrix_path: str | Path | None = None,
    conditions: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
) -> None:
    """Read one run's events, model its task responses, draw :func:`plot_task_timeline`, save.

    The modelled responses are the condition columns of the first level's
    design matrix, built the same way
    (:func:`empathy_fmri.analysis.first_level.run_design_matrix`: the events,
    the HRF model, the TR; the drift and confound columns do not change them),
    so the figure needs only the events and the run's length.

    Parameters
    ----------
    events_path : str or pathlib.Path
        The run's ``events.tsv``.
    tr_s : float or None
        Repetition time (s); None with ``design_matrix_path``: its frame times give it.
    hrf_model : str
        The first level's HRF model (config ``analysis.hrf_model``).
    outputs : sequence of path
        Figure files (e.g. PNG and SVG).
    design : mapping, optional
        The config's ``design`` section: the run lasts its ``n_scans``
        (a simulated dataset).
    design_matrix_path : str or pathlib.Path, optional
        Instead, the subject's first-level design matrices (TSV), whose first
        run's rows give the number of scans (a dataset from elsewhere). Exactly one of
        ``design`` and ``design_matrix_path`` is given.
    conditions : mapping, optional
        ``analysis.conditions`` (the study's trial types of needle and swab).
    title : str, optional
        Figure title; by default names the events file.

    Raises
    ------
    ValueError
        If not exactly one of ``design`` and ``design_matrix_path`` is given.
    """
    from empathy_fmri.analysis.first_level import run_design_matrix
    from empathy_fmri.config.sections import DesignConfig
    from empathy_fmri.io.bids import read_events
    from empathy_fmri.simulation.design import BlockDesign

    if (design is None) == (design_matrix_path is None):
        raise ValueError("give exactly one of design and design_matrix_path")
    if design_matrix_path is not None:
        matrix = read_design_matrices(design_matrix_path)[0]
        n_scans = len(matrix)
        if tr_s is None:
            frames = matrix.index.to_numpy(dtype=float)
            tr_s = float(frames[1] - frames[0])
    else:
        n_scans = BlockDesign.from_config(DesignConfig.from_dict(design)).n_scans
    events = read_events(events_path, conditions)
    model = run_design_matrix(
        n_scans,
        events[["onset", "duration", "trial_type"]],
        None,
        float(tr_s),
        hrf_model=hrf_model,
        drift_model=None,
        high_pass_hz=0.0,
    )
    name = Path(events_path).name.removesuffix("_events.tsv")
    figure = plot_task_timeline(
        events,
        n_scans * float(tr_s),
        model,
        title=title or f"Task design of {name.replace('_', ', ')}",
        hrf_model=hrf_model,
    )
    save_figure(figure, outputs)


def figure_design_matrix(
    design_path: str | Path, outputs: Sequence[str | Path], subject: str
) -> None:
    """Read a subject's design matrices, draw :func:`plot_design_matrices`, save.

    Parameters
    ----------
    design_path : str or pathlib.Path
        The subject's design matrices (all runs) from the first level.
    outputs : sequence of path
        Figure files.
    subject : str
        Participant label, for the title.
    """
    matrices = read_design_matrices(design_path)
    figure = plot_design_matrices(matrices, title=f"First-level design matrix of {subject}")
    save_figure(figure, outputs)


def figure_power(
    table_path: str | Path,
    study_n: int,
    curves_paths: Sequence[str | Path],
    distribution_paths: Sequence[str | Path],
    exaggeration_paths: Sequence[str | Path],
) -> None:
    """Read ``power.tsv``, draw the three power figures and save them.

    Parameters
    ----------
    table_path : path
        ``power.tsv``: of the simulated study, or from a pilot (it then has a
        ``true_r`` column, and the pilot's figures are drawn).
    study_n : int
        The study's sample size, marked on every figure.
    curves_paths, distribution_paths, exaggeration_paths : sequence of path
        Files of :func:`plot_power_curves`, :func:`plot_r_distribution` and
        :func:`plot_exaggeration` (from a pilot :func:`plot_pilot_power_curves`,
        :func:`plot_pilot_r_distribution` and :func:`plot_pilot_exaggeration`).
    """
    table = pd.read_csv(table_path, sep="\t")
    if "true_r" in table.columns:  # from a pilot: one column of panels per true r
        save_figure(plot_pilot_power_curves(table, study_n), curves_paths)
        save_figure(plot_pilot_r_distribution(table, study_n), distribution_paths)
        save_figure(plot_pilot_exaggeration(table, study_n), exaggeration_paths)
        return
    save_figure(plot_power_curves(table, study_n), curves_paths)
    save_figure(plot_r_distribution(table, study_n), distribution_paths)
    save_figure(plot_exaggeration(table, study_n, MIN_SIGNIFICANT_STUDIES), exaggeration_paths)


def figure_roi_effects(
    roi_table_path: str | Path, outputs: Sequence[str | Path], confidence_level: float = 0.95
) -> None:
    """Read ``roi_contrasts.tsv``, draw :func:`plot_roi_effects`, save.

    Parameters
    ----------
    roi_table_path : str or pathlib.Path
        ``results/roi/roi_contrasts.tsv``.
    outputs : sequence of path
        Figure files.
    confidence_level : float
        Level of the interval of the mean.
    """
    table = pd.read_csv(roi_table_path, sep="\t")
    save_figure(plot_roi_effects(table, confidence_level), outputs)


def figure_reliability(table_path: str | Path, outputs: Sequence[str | Path]) -> None:
    """Read ``reliability.tsv``, draw :func:`plot_reliability`, save.

    Parameters
    ----------
    table_path : str or pathlib.Path
        ``results/analysis/reliability.tsv``.
    outputs : sequence of path
        Figure files.
    """
    table = pd.read_csv(table_path, sep="\t", keep_default_na=False, na_values=["n/a"])
    save_figure(plot_reliability(table), outputs)


def figure_brain_behaviour(
    roi_table_path: str | Path,
    phenotype_path: str | Path,
    results_path: str | Path,
    score: str,
    outputs: Sequence[str | Path],
    confidence_level: float = 0.95,
    dilemmas: DilemmasConfig | None = None,
) -> None:
    """Read the ROI, phenotype and statistics tables, draw :func:`plot_brain_behaviour`, save.

    Parameters
    ----------
    roi_table_path : str or pathlib.Path
        ``results/roi/roi_contrasts.tsv``.
    phenotype_path : str or pathlib.Path
        ``phenotype/moral_dilemmas.tsv`` of the BIDS dataset.
    results_path : str or pathlib.Path
        ``results/stats/brain_behaviour.tsv``.
    score : str
        Behavioural score on the x axis.
    outputs : sequence of path
        Figure files.
    confidence_level : float
        Level of the regression band.
    dilemmas : DilemmasConfig, optional
        ``analysis.dilemmas``: score the raw dilemma counts, as every job
        does (:func:`~empathy_fmri.io.phenotype.read_phenotype`).
    """
    from empathy_fmri.io.phenotype import read_phenotype

    roi_table = pd.read_csv(roi_table_path, sep="\t")
    phenotype = read_phenotype(phenotype_path, [score], dilemmas)
    results = pd.read_csv(results_path, sep="\t", na_values="n/a")
    figure = plot_brain_behaviour(roi_table, phenotype, results, score, confidence_level)
    save_figure(figure, outputs)


def figure_roi_timeseries(
    bold_paths: Sequence[str | Path],
    events_paths: Sequence[str | Path],
    design_path: str | Path,
    centres_path: str | Path,
    roi: str,
    radius_mm: float,
    grey_matter_threshold: float,
    subject: str,
    outputs: Sequence[str | Path],
    conditions: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Fit :func:`fit_roi_timeseries` on each run of a subject, draw, save.

    Parameters
    ----------
    bold_paths, events_paths : sequence of path
        The subject's preprocessed BOLD runs and events, in run order.
    design_path : str or pathlib.Path
        The subject's first-level design matrices (all runs).
    centres_path : str or pathlib.Path
        ``roi_centres.tsv``; the ``independent`` (a-priori) ROI is used.
    roi : str
        ROI name.
    radius_mm : float
        ROI radius (mm).
    grey_matter_threshold : float
        Grey-matter probability threshold.
    subject : str
        Participant label, for the title.
    outputs : sequence of path
        Figure files.
    conditions : mapping, optional
        ``analysis.conditions`` (the study's trial types of needle and swab).
    """
    from empathy_fmri.io.bids import read_events
    from empathy_fmri.io.results import read_roi_centres
    from empathy_fmri.plotting.brain import roi_mask_images

    centres = read_roi_centres(centres_path, "independent")
    if roi not in centres:
        raise ValueError(f"roi: '{roi}' is not one of the ROIs {list(centres)}")
    reference = image.index_img(bold_paths[0], 0)
    masks = roi_mask_images(centres, radius_mm, reference, grey_matter_threshold)
    runs = [
        fit_roi_timeseries(bold, design, masks[roi])
        for bold, design in zip(bold_paths, read_design_matrices(design_path), strict=True)
    ]
    events = [read_events(path, conditions) for path in events_paths]
    n_voxels = int(np.asarray(masks[roi].dataobj).sum())
    figure = plot_roi_timeseries(
        runs,
        events,
        roi,
        title=f"{subject}, {roi} ({n_voxels} voxels): BOLD signal and the GLM fit",
    )
    save_figure(figure, outputs)


def figure_selections(
    stats_path: str | Path,
    recovery_path: str | Path,
    replicate_paths: Sequence[str | Path],
    rois: Sequence[str],
    scores: Sequence[str],
    n_subjects: int,
    outputs: Sequence[str | Path],
) -> None:
    """Draw r under each ROI selection against the truth (and replicate studies, if given).

    Parameters
    ----------
    stats_path : path
        ``brain_behaviour.tsv``.
    recovery_path : path
        ``correlation_recovery.tsv`` (population and attenuated r).
    replicate_paths : sequence of path
        Replicate studies' correlation tables (``kind`` column: effect or
        null); empty for this study alone.
    rois, scores : sequence of str
        Panels, in order.
    n_subjects : int
        Participants of this study.
    outputs : sequence of path
        Figure files.
    """
    from empathy_fmri.plotting.selections import plot_selection_r

    study = pd.read_csv(stats_path, sep="\t")
    recovery = pd.read_csv(recovery_path, sep="\t")
    truth = recovery[recovery["selection"] == "independent"][
        ["roi", "score", "r_population", "r_attenuated"]
    ]
    replicates = (
        pd.concat([pd.read_csv(path, sep="\t") for path in replicate_paths], ignore_index=True)
        if replicate_paths
        else None
    )
    save_figure(plot_selection_r(study, truth, rois, scores, replicates, n_subjects), outputs)
