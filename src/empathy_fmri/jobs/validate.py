"""Jobs validate_*: grade a run's estimates, maps and correlations against the truth."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.map_accuracy import map_accuracy
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.evaluation.noise_removal import COMPONENT_LABELS
from empathy_fmri.evaluation.recovery import amplitude_recovery, correlation_recovery
from empathy_fmri.evaluation.summary import summary_markdown

logger = logging.getLogger(__name__)


def run_amplitude_validation(
    roi_path: str | Path,
    truth_path: str | Path,
    measurement_path: str | Path,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Read the ROI estimates and the truth, run :func:`amplitude_recovery`, write table and figure.

    Parameters
    ----------
    roi_path : path
        ``roi_contrasts.tsv``.
    truth_path : path
        ``participants_truth.tsv``.
    measurement_path : path
        ``measurement_model.tsv``.
    table_path : path
        Output TSV.
    figure_paths : sequence of path
        Output figure files.
    """
    from empathy_fmri.io.atomic import write_tsv
    from empathy_fmri.plotting.recovery import plot_amplitude_recovery
    from empathy_fmri.plotting.style import save_figure

    estimates = pd.read_csv(roi_path, sep="\t")
    truth = pd.read_csv(truth_path, sep="\t")
    measurement = MeasurementModel.from_table(pd.read_csv(measurement_path, sep="\t"))
    table = amplitude_recovery(estimates, truth, measurement)
    write_tsv(table_path, table)
    save_figure(plot_amplitude_recovery(estimates, truth, table), figure_paths)


def run_map_validation(
    thresholded_paths: Mapping[str, str | Path],
    roi_mask_paths: Mapping[str, str | Path],
    mean_map_path: str | Path,
    near_margin_mm: float,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Grade the thresholded group maps against the true activation; write table and figure.

    Parameters
    ----------
    thresholded_paths : mapping of str to path
        Threshold name (``fdr``, ``fwe``) to a z map that is zero below threshold.
    roi_mask_paths : mapping of str to path
        Simulated region name to its true mask in ``results/truth``.
    mean_map_path : path
        True mean needle-minus-swab map; a voxel is truly active where it is
        non-zero.
    near_margin_mm : float
        See :func:`map_accuracy`.
    table_path : path
        Output TSV (the rows of :func:`map_accuracy` per threshold).
    figure_paths : sequence of path
        Output figure files.
    """
    import nibabel as nib

    from empathy_fmri.analysis.first_level import analysis_mask
    from empathy_fmri.io.atomic import write_tsv
    from empathy_fmri.plotting.recovery import plot_map_accuracy
    from empathy_fmri.plotting.style import save_figure

    mean_map = nib.load(mean_map_path)
    active = np.asarray(mean_map.dataobj) != 0
    true_regions = {
        name: (np.asarray(nib.load(path).dataobj) > 0) & active
        for name, path in roi_mask_paths.items()
    }
    voxel = float(abs(mean_map.affine[0, 0]))
    significant = {}
    tables = []
    brain = None
    for threshold, path in thresholded_paths.items():
        image = nib.load(path)
        if brain is None:
            brain = np.asarray(analysis_mask(image).dataobj) > 0
        data = np.asarray(image.dataobj)
        if data.shape != active.shape:
            raise ValueError(
                f"map '{path}' has shape {data.shape}, the truth {active.shape}: not the same grid"
            )
        significant[threshold] = data > 0
        table = map_accuracy(significant[threshold], true_regions, brain, voxel, near_margin_mm)
        table.insert(0, "threshold", threshold)
        tables.append(table)
        logger.info("%s: %d voxels significant", threshold, int(significant[threshold].sum()))
    table = pd.concat(tables, ignore_index=True)
    write_tsv(table_path, table)
    union = np.any(np.stack(list(true_regions.values())), axis=0)
    figure = plot_map_accuracy(significant, union, brain, mean_map.affine, near_margin_mm, table)
    save_figure(figure, figure_paths)


def run_correlation_validation(
    stats_path: str | Path,
    population_path: str | Path,
    power_path: str | Path,
    n_subjects: int,
    alpha: float,
    table_path: str | Path,
    figure_paths: Sequence[str | Path],
) -> None:
    """Grade the brain-behaviour correlations; write table and figure.

    Parameters
    ----------
    stats_path : path
        ``brain_behaviour.tsv``.
    population_path : path
        ``population_correlations.tsv`` of the truth.
    power_path : path
        ``power.tsv``; its rows at ``n_subjects`` are used.
    n_subjects : int
        The study's sample size.
    alpha : float
        Significance level.
    table_path : path
        Output TSV.
    figure_paths : sequence of path
        Output figure files.
    """
    from empathy_fmri.io.atomic import write_tsv
    from empathy_fmri.plotting.recovery import plot_correlation_recovery
    from empathy_fmri.plotting.style import save_figure

    power = pd.read_csv(power_path, sep="\t")
    at_n = power[power["sample_size"] == n_subjects]
    if at_n.empty:
        # reliabilities and expected r do not depend on N; power at this N is unknown
        logger.warning(
            "'%s' has no rows at the study's sample size %d (it has %s); power left empty",
            power_path,
            n_subjects,
            sorted(power["sample_size"].unique()),
        )
        at_n = power[power["sample_size"] == power["sample_size"].min()].assign(power=np.nan)
    table = correlation_recovery(
        pd.read_csv(stats_path, sep="\t"), pd.read_csv(population_path, sep="\t"), at_n, alpha
    )
    write_tsv(table_path, table)
    save_figure(plot_correlation_recovery(table), figure_paths)


def run_summary(
    amplitude_path: str | Path,
    map_path: str | Path,
    correlation_path: str | Path,
    n_subjects: int,
    alpha: float,
    near_margin_mm: float,
    summary_path: str | Path,
    noise_path: str | Path | None = None,
    conclusion_path: str | Path | None = None,
) -> None:
    """Write :func:`summary_markdown` from the validation tables.

    Parameters
    ----------
    amplitude_path, map_path, correlation_path : path
        Tables of :func:`run_amplitude_validation`, :func:`run_map_validation`
        and :func:`run_correlation_validation`.
    n_subjects : int
        The study's sample size.
    alpha : float
        Significance level.
    near_margin_mm : float
        Margin of distant false positives.
    summary_path : path
        Output markdown file.
    noise_path : path, optional
        ``noise_components.tsv`` of :func:`run_noise_validation`.
    conclusion_path : path, optional
        ``conclusion.md`` of :func:`~empathy_fmri.jobs.conclusion.run_conclusion`,
        copied verbatim under "Bottom line".
    """
    from empathy_fmri.io.atomic import write_text

    text = summary_markdown(
        pd.read_csv(amplitude_path, sep="\t"),
        pd.read_csv(map_path, sep="\t"),
        pd.read_csv(correlation_path, sep="\t"),
        n_subjects,
        alpha,
        near_margin_mm,
        None if noise_path is None else pd.read_csv(noise_path, sep="\t"),
        None if conclusion_path is None else Path(conclusion_path).read_text(),
    )
    write_text(summary_path, text)


def run_roi_placement_validation(
    centres_path: str | Path,
    region_mask_paths: Mapping[str, str | Path],
    region_centres_mm: Mapping[str, Sequence[float]],
    mean_map_path: str | Path,
    grey_matter_threshold: float,
    table_path: str | Path,
) -> None:
    """Grade where every ROI of every selection sits against the simulated regions.

    Parameters
    ----------
    centres_path : path
        ``roi_centres.tsv``.
    region_mask_paths : mapping of str to path
        Simulated region name to its mask in ``results/truth``.
    region_centres_mm : mapping of str to (x, y, z)
        ``regions.centres``.
    mean_map_path : path
        True mean needle-minus-swab map (locates each region's peak).
    grey_matter_threshold : float
        ``anatomy.grey_matter_threshold`` (the ROIs are spheres in grey matter).
    table_path : path
        Output TSV of :func:`~empathy_fmri.evaluation.roi_placement.roi_placement`.
    """
    import nibabel as nib

    from empathy_fmri.analysis.roi import roi_masks
    from empathy_fmri.anatomy.template import grey_matter_on
    from empathy_fmri.evaluation.roi_placement import region_peaks, roi_placement
    from empathy_fmri.io.atomic import write_tsv

    centres = pd.read_csv(centres_path, sep="\t")
    mean_img = nib.load(mean_map_path)
    affine = mean_img.affine
    grey = grey_matter_on(mean_img, grey_matter_threshold)
    regions = {
        name: np.asarray(nib.load(path).dataobj) > 0 for name, path in region_mask_paths.items()
    }
    independent = centres[centres["selection"] == "independent"]
    disjoint = roi_masks(
        {row.roi: [row.x, row.y, row.z] for row in independent.itertuples()},
        float(independent["radius_mm"].max()),
        affine,
        grey,
    )
    masks = [
        disjoint[row.roi]
        if row.selection == "independent"
        else roi_masks(
            {row.roi: [row.x, row.y, row.z]}, float(row.radius_mm), affine, grey, disjoint=False
        )[row.roi]
        for row in centres.itertuples()
    ]
    peaks = region_peaks(regions, np.asarray(mean_img.dataobj, float), affine)
    table = roi_placement(centres, masks, regions, region_centres_mm, peaks)
    for row in table[table["selection"] == "independent"].itertuples():
        logger.info(
            "%s: %.1f mm from the region's centre, %.1f mm from its peak, Dice %.2f",
            row.roi,
            row.distance_to_centre_mm,
            row.distance_to_peak_mm,
            row.dice,
        )
    write_tsv(table_path, table)


def run_noise_validation(
    simulation_sections: Mapping[str, object],
    analysis_section: Mapping[str, object],
    n_subjects: int,
    table_path: str | Path,
    figure_path: str | Path,
    max_subjects: int = 2,
) -> None:
    """Simulate the first subjects' noise by component and measure what the first level removes.

    Parameters
    ----------
    simulation_sections : mapping
        The config's simulation sections (as the simulate rules get them).
    analysis_section : mapping
        The config's ``analysis`` section (HRF, drift model, high-pass, confounds).
    n_subjects : int
        Subjects in the study (their labels).
    table_path : path
        Output TSV: one row per subject, run and component, then the mean
        over them (``participant_id`` and ``run`` ``all``), with the spurious
        needle-minus-swab effect of each component at the brain's edge (its
        outer two voxels) and inside (mean absolute value over voxels of the
        effect averaged over runs: noise averages out, a stimulus-locked
        flinch does not).
    figure_path : path
        Output PNG of :func:`~empathy_fmri.plotting.validation.plot_noise_removal`.
    max_subjects : int
        Subjects simulated (the table is a check, not a census).
    """
    from scipy import ndimage

    from empathy_fmri.analysis.first_level import TISSUE_STRATEGIES, confound_regressors
    from empathy_fmri.config.sections import AnalysisConfig, SimulationConfig
    from empathy_fmri.evaluation.noise_removal import (
        component_removal,
        first_level_design,
        summarise_removal,
        task_effect,
    )
    from empathy_fmri.io.atomic import write_tsv
    from empathy_fmri.io.bids import bold_image
    from empathy_fmri.pipeline.simulated_subject import add_tissue_signals
    from empathy_fmri.plotting.style import save_figure
    from empathy_fmri.plotting.validation import plot_noise_removal
    from empathy_fmri.simulation.design import BlockDesign
    from empathy_fmri.simulation.population import draw_subject
    from empathy_fmri.simulation.subject import build_space, simulate_subject

    simulation = SimulationConfig.from_dict(dict(simulation_sections))
    analysis = AnalysisConfig.from_dict(dict(analysis_section))
    space = build_space(simulation.anatomy, simulation.regions, simulation.signal)
    grey = space.grey_voxels
    edge = (space.mask & ~ndimage.binary_erosion(space.mask, iterations=2))[space.mask]
    frame_times = BlockDesign.from_config(simulation.design).frame_times_s
    tables, effects = [], []
    for index in range(min(max_subjects, n_subjects)):
        truth = draw_subject(simulation, index, n_subjects)
        runs = simulate_subject(simulation, index, truth, space, keep_components=True)
        for run_number, run in enumerate(runs, start=1):
            if set(analysis.confounds["strategy"]) & set(TISSUE_STRATEGIES):
                # the tissue signals are means of the image as the dataset holds it
                add_tissue_signals(
                    run,
                    bold_image(
                        run.bold,
                        space.mask,
                        space.anatomy.affine,
                        float(simulation.design.tr),
                    ),
                    space,
                )
            regressors = confound_regressors([run.confounds], analysis.confounds)
            design = first_level_design(
                run.events,
                None if regressors is None else regressors[0],
                frame_times,
                analysis,
            )
            table = component_removal(
                {name: values[:, grey] for name, values in run.components.items()},
                design,
                space.baseline[grey],
            )
            table.insert(0, "run", run_number)
            table.insert(0, "participant_id", truth.participant_id)
            tables.append(table)
            effects.append(task_effect(run.components, design, space.baseline))
            logger.info(
                "%s run %d: %s",
                truth.participant_id,
                run_number,
                table[["component", "share_remaining"]].to_dict("records"),
            )
    summary = summarise_removal(tables)
    for column, voxels in (
        ("spurious_effect_edge_psc", edge),
        ("spurious_effect_interior_psc", ~edge),
    ):
        values = {}
        for name, label in COMPONENT_LABELS.items():
            if name in effects[0]:
                mean_effect = np.mean([effect[name] for effect in effects], axis=0)
                values[label] = float(np.mean(np.abs(mean_effect[voxels])))
        summary[column] = summary["component"].map(values)
    combined = pd.concat(
        [*tables, summary.assign(participant_id="all", run="all")], ignore_index=True
    )
    write_tsv(table_path, combined, float_format="%.6g")
    noise = simulation.noise
    flinch = (
        f"; flinch {noise.flinch_mm} mm, p = {noise.flinch_probability} per needle video"
        if noise.flinch_mm > 0
        else ""
    )
    figure = plot_noise_removal(
        summary,
        title=f"What the first level removes (tSNR {noise.tsnr:g}, motion step "
        f"{noise.motion_mm} mm{flinch})",
    )
    save_figure(figure, [figure_path])


def run_reliability_validation(
    reliability_path: str | Path,
    roi_path: str | Path,
    truth_path: str | Path,
    measurement_path: str | Path,
    table_path: str | Path,
) -> None:
    """Grade the split-half reliabilities against the truth; write the table.

    Parameters
    ----------
    reliability_path : path
        ``results/analysis/reliability.tsv``.
    roi_path : path
        ``roi_contrasts.tsv`` (each half's and the all-data estimate per subject).
    truth_path : path
        ``participants_truth.tsv``.
    measurement_path : path
        ``measurement_model.tsv`` (its ``reliability_brain``, the model's
        reliability of each independent ROI's estimate).
    table_path : path
        Output TSV (:func:`~empathy_fmri.evaluation.reliability.reliability_recovery`).
    """
    from empathy_fmri.evaluation.reliability import reliability_recovery
    from empathy_fmri.io.atomic import write_tsv

    measurement = pd.read_csv(measurement_path, sep="\t")
    model = (
        measurement.set_index("roi")["reliability_brain"].astype(float).to_dict()
        if "reliability_brain" in measurement
        else None
    )
    table = reliability_recovery(
        pd.read_csv(reliability_path, sep="\t"),
        pd.read_csv(roi_path, sep="\t"),
        pd.read_csv(truth_path, sep="\t"),
        model,
    )
    for row in table[table["selection"] == "independent"].itertuples():
        logger.info(
            "%s: split-half ICC %.2f [%.2f, %.2f] against a true half reliability of %.2f; "
            "Spearman-Brown %.2f [%.2f, %.2f] against %.2f (model %.2f)",
            row.roi,
            row.icc,
            row.icc_ci_low,
            row.icc_ci_high,
            row.true_reliability_half,
            row.spearman_brown,
            row.sb_ci_low,
            row.sb_ci_high,
            row.true_reliability_full,
            row.model_reliability_full,
        )
    write_tsv(table_path, table)
