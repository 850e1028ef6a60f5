"""How the analysis measures each ROI amplitude: gain and error, from first-level maps."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from scipy import ndimage

from empathy_fmri.config.sections import (
    AnalysisConfig,
    AnatomyConfig,
    RegionsConfig,
    SignalConfig,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasurementModel:
    """How the analysis measures each ROI amplitude: ``gain * delta + error``.

    Attributes
    ----------
    gain : mapping of str to float
        Share of the planted ROI-average amplitude that the ROI-average
        estimate recovers (smoothing spreads part of it outside the ROI).
    error_sd_psc : mapping of str to float
        SD of the estimate's measurement error (psc), from the first-level
        variance maps.
    """

    gain: Mapping[str, float]
    error_sd_psc: Mapping[str, float]

    @classmethod
    def perfect(cls, rois: Sequence[str]) -> MeasurementModel:
        """Return the model of a perfect measurement: gain 1, no error."""
        return cls({name: 1.0 for name in rois}, {name: 0.0 for name in rois})

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> MeasurementModel:
        """Read the model from a table with ``roi``, ``gain`` and ``error_sd_psc`` columns.

        Parameters
        ----------
        table : pandas.DataFrame
            E.g. ``results/power/measurement_model.tsv``.

        Returns
        -------
        MeasurementModel
        """
        missing = {"roi", "gain", "error_sd_psc"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks the column(s) {sorted(missing)}")
        indexed = table.set_index("roi")
        return cls(
            indexed["gain"].astype(float).to_dict(), indexed["error_sd_psc"].astype(float).to_dict()
        )

    def reliability(self, sd_psc: Mapping[str, float]) -> dict[str, float]:
        """Reliability of each ROI estimate across people.

        Parameters
        ----------
        sd_psc : mapping of str to float
            Between-subject SD of the true amplitude per ROI (psc).

        Returns
        -------
        dict of str to float
            ``gain^2 sd^2 / (gain^2 sd^2 + error_sd^2)``: the share of the
            estimate's between-subject variance that is true-score variance
            (classical test theory); NaN where both are zero.
        """
        out = {}
        for name, sd in sd_psc.items():
            true_var = (self.gain[name] * sd) ** 2
            total = true_var + self.error_sd_psc[name] ** 2
            out[name] = float(true_var / total) if total > 0 else float("nan")
        return out


def signal_gain(
    anatomy: AnatomyConfig,
    regions: RegionsConfig,
    signal: SignalConfig,
    analysis: AnalysisConfig,
    space: Any = None,
) -> dict[str, float]:
    """Share of each simulated region's amplitude that the analysis ROI of its name recovers.

    The analysis ROI is a sphere at a literature coordinate, the region an
    irregular shape around its own centre, so the ROI holds only part of the
    region and some voxels without signal. For ``smoothed_average`` the first
    level smooths the BOLD images before the GLM and scales every voxel to its
    own mean, so the estimate in a voxel is ``G(baseline * profile) /
    G(baseline)`` times the amplitude, where ``G`` is nilearn's Gaussian
    smoothing; averaged over the ROI this is the gain. For ``roi_mean_glm`` the
    ROI's mean time series is scaled to its own mean, so the gain is the
    baseline-weighted mean of the region's profile over the ROI, ``sum(baseline
    * profile) / sum(baseline)``. Neither counts signal that leaks into an ROI
    from other regions, nor the mismatch between each subject's HRF and the
    canonical one (validation reports the observed slope of estimate on truth
    for comparison).

    Parameters
    ----------
    anatomy : AnatomyConfig
        Grid and grey-matter threshold.
    regions : RegionsConfig
        The simulated regions (the truth).
    signal : SignalConfig
        Tissue baselines and region amplitude models.
    analysis : AnalysisConfig
        The analysis ROIs (``rois``, ``roi_radius_mm``), ``smoothing_fwhm_mm``
        (used by ``smoothed_average`` only) and ``roi_estimate``.
    space : SimulationSpace, optional
        From :func:`empathy_fmri.simulation.subject.build_space` (built if None).

    Returns
    -------
    dict of str to float
        Gain per analysis ROI that has a simulated region of its name, in the
        order of ``analysis.rois``.
    """
    from nilearn.image import smooth_img

    from empathy_fmri.analysis.roi import roi_masks
    from empathy_fmri.io.bids import to_volume
    from empathy_fmri.simulation.subject import build_space

    estimate = analysis.roi_estimate
    if estimate not in ("smoothed_average", "roi_mean_glm"):
        raise ValueError(f"estimate must be smoothed_average or roi_mean_glm, got {estimate!r}")
    space = space or build_space(anatomy, regions, signal)
    rois = [name for name in analysis.rois if name in space.region_profiles]
    affine = space.anatomy.affine
    masks = roi_masks(
        {name: analysis.rois[name] for name in rois},
        analysis.roi_radius_mm,
        affine,
        space.anatomy.grey_mask,
    )
    baseline = to_volume(space.baseline.astype(float), space.mask)
    profiles = {name: to_volume(space.region_profiles[name], space.mask) for name in rois}
    if estimate == "roi_mean_glm":
        return {
            name: float(
                np.sum((baseline * profiles[name])[masks[name]]) / baseline[masks[name]].sum()
            )
            for name in rois
        }
    smoothing_fwhm_mm = analysis.smoothing_fwhm_mm
    volumes = [baseline] + [profiles[name] * baseline for name in rois]
    stacked = nib.Nifti1Image(np.stack(volumes, axis=-1), affine)
    smoothed = (
        np.asarray(smooth_img(stacked, smoothing_fwhm_mm).dataobj)
        if smoothing_fwhm_mm
        else np.stack(volumes, axis=-1)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            name: float(np.mean(smoothed[..., k][masks[name]] / smoothed[..., 0][masks[name]]))
            for k, name in enumerate(rois, start=1)
        }


def _load(img: Any) -> np.ndarray:
    if isinstance(img, (str, Path)):
        img = nib.load(img)
    return np.asarray(img.dataobj, dtype=np.float32)


def calibrate_measurement(
    effect_imgs: Sequence[Any],
    variance_imgs: Sequence[Any],
    roi_masks: Mapping[str, np.ndarray],
    roi_centres_mm: Mapping[str, Sequence[float]],
    affine: np.ndarray,
    min_distance_mm: float,
    max_positions: int = 2000,
) -> pd.DataFrame:
    """Measurement-error variance of each ROI mean, from first-level maps.

    The first-level variance map gives each voxel's error variance; the
    ROI mean's variance also depends on how strongly neighbouring voxels'
    errors correlate (smooth noise plus analysis smoothing): it is
    ``c * mean voxel variance`` with ``c`` between ``1 / n_voxels``
    (independent voxels) and 1 (identical voxels). ``c`` is measured, not
    modelled: the ROI's shape is moved to positions of the same subjects'
    needle-minus-swab effect maps farther than ``min_distance_mm`` from every
    ROI centre, where the true effect is zero by design, so the mean there is
    pure error; ``c = mean(mean^2) / mean(voxel variance)`` over positions and
    subjects. This assumes the error's spatial correlation is stationary,
    which holds for the simulator's noise; it also absorbs any misfit of the
    first-level variance (e.g. imperfect prewhitening).

    Parameters
    ----------
    effect_imgs, variance_imgs : sequence of Niimg-like or path
        Each subject's needle-minus-swab effect and variance maps.
    roi_masks : mapping of str to numpy.ndarray
        Boolean 3D ROI masks on the maps' grid.
    roi_centres_mm : mapping of str to (x, y, z)
        Centres of the ROIs (positions near any of them are excluded).
    affine : numpy.ndarray
        Affine of the maps.
    min_distance_mm : float
        Smallest distance between a null position and an ROI centre; take at
        least twice the ROI radius plus twice the smoothing FWHM.
    max_positions : int
        At most this many null positions (evenly spaced) per ROI.

    Returns
    -------
    pandas.DataFrame
        One row per ROI: ``roi``, ``n_voxels``, ``n_subjects``,
        ``mean_voxel_variance`` (psc^2, mean over subjects and ROI voxels),
        ``n_null_positions``, ``null_mean_square`` and
        ``null_mean_voxel_variance`` (the sums behind ``c``, kept so that
        calibrations can be pooled), ``correlation_factor`` (``c``),
        ``effective_voxels`` (``1 / c``) and ``error_sd_psc``
        (``sqrt(c * mean_voxel_variance)``).
    """
    if len(effect_imgs) != len(variance_imgs) or len(effect_imgs) == 0:
        raise ValueError(
            f"effect_imgs and variance_imgs must be non-empty and of equal length, "
            f"got {len(effect_imgs)} and {len(variance_imgs)}"
        )
    effects = np.stack([_load(img) for img in effect_imgs])
    variances = np.stack([_load(img) for img in variance_imgs])
    valid = np.all(np.isfinite(effects) & np.isfinite(variances) & (variances > 0), axis=0)
    inverse = np.linalg.inv(affine)
    ijk_valid = np.argwhere(valid)
    world = ijk_valid @ affine[:3, :3].T + affine[:3, 3]
    centres = np.asarray([roi_centres_mm[name] for name in roi_masks], float)
    far = np.min(np.linalg.norm(world[:, None, :] - centres[None], axis=-1), axis=1)
    candidates = ijk_valid[far > min_distance_mm]
    rows = []
    for name, mask in roi_masks.items():
        voxels = np.argwhere(mask & valid)
        if len(voxels) == 0:
            raise ValueError(f"ROI '{name}' has no voxel with a finite, positive variance")
        centre = np.rint(
            inverse[:3, :3] @ np.asarray(roi_centres_mm[name], float) + inverse[:3, 3]
        ).astype(int)
        offsets = voxels - centre
        moved = _null_positions(candidates, offsets, valid, max_positions)
        roi_variance = variances[:, voxels[:, 0], voxels[:, 1], voxels[:, 2]].mean(axis=1)
        row = {
            "roi": name,
            "n_voxels": len(voxels),
            "n_subjects": len(effects),
            "mean_voxel_variance": float(roi_variance.mean()),
            "n_null_positions": len(moved),
            "null_mean_square": np.nan,
            "null_mean_voxel_variance": np.nan,
        }
        if len(moved):
            index = (slice(None), moved[..., 0], moved[..., 1], moved[..., 2])
            row["null_mean_square"] = float(np.mean(effects[index].mean(axis=-1) ** 2))
            row["null_mean_voxel_variance"] = float(np.mean(variances[index].mean(axis=-1)))
        else:
            logger.warning("ROI %s: no null position; assuming independent voxels", name)
        rows.append(row)
    return finish_calibration(pd.DataFrame(rows))


def _null_positions(
    candidates: np.ndarray,
    offsets: np.ndarray,
    valid: np.ndarray,
    max_positions: int,
) -> np.ndarray:
    """Voxel sets of an ROI shape moved to candidate centres where all voxels are valid.

    Returns ``(n_positions, n_voxels, 3)`` indices, at most ``max_positions``
    evenly spaced ones, in the order of ``candidates``. A centre takes the
    shape iff it survives the erosion of ``valid`` by the shape (outside the
    grid counts as not valid): one pass over the grid instead of a look-up of
    every voxel of the shape at every candidate.
    """
    offsets = np.asarray(offsets, int).reshape(-1, 3)
    candidates = np.asarray(candidates, int).reshape(-1, 3)
    if not len(offsets):
        return candidates[:max_positions, None, :] + offsets[None]
    reach = np.abs(offsets).max(axis=0)
    structure = np.zeros(2 * reach + 1, bool)
    structure[tuple((offsets + reach).T)] = True
    # binary_erosion: out[x] = all(valid[x + o]) over the offsets o of the
    # structure around its centre (reach), False where x + o leaves the grid
    fits = ndimage.binary_erosion(valid, structure=structure, border_value=0)
    centres = candidates[fits[candidates[:, 0], candidates[:, 1], candidates[:, 2]]]
    if len(centres) > max_positions:
        centres = centres[np.linspace(0, len(centres) - 1, max_positions).astype(int)]
    return centres[:, None, :] + offsets[None]


def finish_calibration(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``correlation_factor``, ``effective_voxels`` and ``error_sd_psc`` to sums.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`calibrate_measurement` (or pooled sums of several).

    Returns
    -------
    pandas.DataFrame
        The table with the derived columns (re)computed; where no null
        position was available, voxels are taken as independent (a lower
        bound of the error). Rows whose ``estimate`` is ``roi_mean_glm`` hold
        the variance of the ROI estimate itself: their factor is the null
        ratio ``null_mean_square / null_mean_voxel_variance`` (1 without null
        positions), not bounded by 1.
    """
    table = table.copy()
    factor = table["null_mean_square"] / table["null_mean_voxel_variance"]
    factor = factor.fillna(1.0 / table["n_voxels"]).clip(upper=1.0)
    if "estimate" in table:
        # An ROI-mean GLM's variance is that of the ROI estimate itself; its
        # null positions measure how far the GLM's noise model is off (c may
        # exceed 1), and without them it is taken at its word (c = 1).
        ratio = (table["null_mean_square"] / table["null_mean_voxel_variance"]).fillna(1.0)
        factor = factor.where(table["estimate"] != "roi_mean_glm", ratio)
    table["correlation_factor"] = factor
    table["effective_voxels"] = 1.0 / factor
    table["error_sd_psc"] = np.sqrt(factor * table["mean_voxel_variance"])
    return table


#: Null positions proposed per ROI, and at most how many of those that touch no
#: voxel of the group map's effect (:func:`effect_free_positions`) are used.
NULL_CANDIDATES = 80
NULL_POSITIONS = 40
#: A voxel with |group z| above this (one-sided p < 0.001) shows an effect; a
#: null position may not touch it.
NULL_EXCLUSION_Z = 3.09


def effect_free_positions(
    null_masks: Mapping[str, Sequence[np.ndarray]],
    group_z: np.ndarray,
    max_positions: int = NULL_POSITIONS,
    threshold_z: float = NULL_EXCLUSION_Z,
) -> dict[str, list[int]]:
    """Which null positions lie where the group map shows no effect.

    Null positions are placed far from the a-priori ROIs, but the effect is
    not only there: regions the analyst did not choose (in the simulation,
    secondary somatosensory cortex, TPJ, mPFC) respond too, and a null
    position on one would count their between-subject variance as
    measurement error. The analysis cannot know where they are, but the
    group map shows it: a position touching a voxel with ``|z| >
    threshold_z`` is dropped. A region the group map misses can still leak
    in; validation compares the calibrated error with the observed one.

    Parameters
    ----------
    null_masks : mapping of str to sequence of numpy.ndarray
        Candidate positions per ROI (:func:`null_position_masks`).
    group_z : numpy.ndarray
        Group z map on the same grid.
    max_positions : int
        At most this many positions per ROI (the first that qualify).
    threshold_z : float
        ``|z|`` above which a voxel shows an effect.

    Returns
    -------
    dict of str to list of int
        Per ROI, the indices of the positions kept, in order.
    """
    effect = np.abs(np.nan_to_num(np.asarray(group_z, float))) > threshold_z
    return {
        roi: [k for k, shape in enumerate(shapes) if not (shape & effect).any()][:max_positions]
        for roi, shapes in null_masks.items()
    }


def add_run_variation(table: pd.DataFrame, run_sd_psc: float, n_runs: int) -> pd.DataFrame:
    """Add the run-to-run variation of the amplitude to the measurement error.

    A subject's ROI estimate measures the mean of its runs' amplitudes, each
    the subject's amplitude plus ``N(0, run_sd_psc^2)``
    (``signal.run_sd_psc``). The null positions that calibrate the error
    carry no signal, so they cannot see this variation; it adds
    ``(gain * run_sd_psc)^2 / n_runs`` to the error variance.

    Parameters
    ----------
    table : pandas.DataFrame
        A calibration with ``gain`` and ``error_sd_psc`` columns.
    run_sd_psc : float
        Run-to-run SD of the amplitude.
    n_runs : int
        Runs per subject.

    Returns
    -------
    pandas.DataFrame
        A copy with ``noise_error_sd_psc`` (the calibrated noise part),
        ``run_error_sd_psc`` and the combined ``error_sd_psc``.
    """
    table = table.copy()
    table["noise_error_sd_psc"] = table["error_sd_psc"]
    table["run_error_sd_psc"] = table["gain"].abs() * run_sd_psc / np.sqrt(n_runs)
    table["error_sd_psc"] = np.sqrt(
        table["noise_error_sd_psc"] ** 2 + table["run_error_sd_psc"] ** 2
    )
    return table


def null_distance_mm(roi_radius_mm: float, smoothing_fwhm_mm: float, noise_fwhm_mm: float) -> float:
    """Smallest distance of a null position from an ROI centre in :func:`calibrate_measurement`.

    Twice the ROI radius plus twice the analysis smoothing plus the noise
    smoothness: far enough that neither the ROI's signal nor its smoothed
    spill-over reaches the moved ROI.

    Parameters
    ----------
    roi_radius_mm, smoothing_fwhm_mm, noise_fwhm_mm : float
        ROI radius, first-level smoothing and noise FWHM (mm).

    Returns
    -------
    float
    """
    return 2 * roi_radius_mm + 2 * smoothing_fwhm_mm + noise_fwhm_mm


def calibrate_roi_glm(
    roi_table: pd.DataFrame,
    null_table: pd.DataFrame | None = None,
    selection: str = "independent",
) -> pd.DataFrame:
    """Measurement-error variance of each ROI-mean GLM estimate.

    The first-level variance of an ROI-mean GLM is the sampling variance of
    the ROI estimate under the GLM's noise model, with no spatial correlation
    to account for. Noise the model does not capture is measured on the same
    GLM fitted at null positions (:func:`null_position_masks`):
    ``c = mean(null effect^2) / mean(null variance)``, and the error variance
    is ``c`` times the mean variance of the ROI's own estimates.

    Parameters
    ----------
    roi_table : pandas.DataFrame
        ``roi_contrasts.tsv`` with ``variance_roi_glm`` (from
        :func:`empathy_fmri.pipeline.roi.roi_step`).
    null_table : pandas.DataFrame, optional
        ROI-mean GLMs at null positions: ``roi``, ``effect``, ``variance``
        (every subject and position). Without it ``c`` is 1.
    selection : str
        Which selection's ROIs to calibrate.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`calibrate_measurement` (``mean_voxel_variance``
        holds the mean variance of the ROI estimate, ``null_mean_square`` and
        ``null_mean_voxel_variance`` the null sums), ``estimate``
        ``roi_mean_glm``, ``correlation_factor`` ``c`` and ``error_sd_psc``.
    """
    if "variance_roi_glm" not in roi_table:
        raise ValueError("roi_table has no 'variance_roi_glm' column (roi_mean_glm estimates)")
    rows = []
    chosen = roi_table[roi_table["selection"] == selection]
    for roi, group in chosen.groupby("roi", sort=False):
        variances = group["variance_roi_glm"].to_numpy(float)
        variances = variances[np.isfinite(variances)]
        if variances.size == 0:
            raise ValueError(f"ROI '{roi}' has no finite ROI-mean GLM variance")
        row = {
            "roi": roi,
            "n_voxels": int(group["n_voxels"].iloc[0]),
            "n_subjects": int(variances.size),
            "mean_voxel_variance": float(variances.mean()),
            "n_null_positions": 0,
            "null_mean_square": np.nan,
            "null_mean_voxel_variance": np.nan,
            "estimate": "roi_mean_glm",
        }
        if null_table is not None:
            null = null_table[null_table["roi"] == roi]
            effect = pd.to_numeric(null["effect"], errors="coerce")
            variance = pd.to_numeric(null["variance"], errors="coerce")
            null = pd.DataFrame({"effect": effect, "variance": variance}).dropna()
            if len(null):
                row["n_null_positions"] = int(len(null))
                row["null_mean_square"] = float(np.mean(null["effect"] ** 2))
                row["null_mean_voxel_variance"] = float(np.mean(null["variance"]))
            else:
                logger.warning(
                    "ROI %s: no ROI-mean GLM at a null position; taking the GLM's "
                    "variance at its word (c = 1)",
                    roi,
                )
        rows.append(row)
    return finish_calibration(pd.DataFrame(rows))


def null_position_masks(
    roi_masks: Mapping[str, np.ndarray],
    roi_centres_mm: Mapping[str, Sequence[float]],
    affine: np.ndarray,
    valid: np.ndarray,
    min_distance_mm: float,
    max_positions: int = NULL_CANDIDATES,
) -> dict[str, list[np.ndarray]]:
    """Copies of each ROI's shape moved to where the true effect is zero.

    The ROI-mean GLM's own variance assumes its noise model is right; noise
    it does not model (residual motion, serial correlation beyond AR(1)) makes
    the real error larger. Fitting the same GLM to the ROI's shape at
    positions far from every ROI centre, where no effect is planted, measures
    the real error: ``c = mean(null effect^2) / mean(null variance)`` scales
    the GLM variance (:func:`calibrate_roi_glm`).

    Parameters
    ----------
    roi_masks : mapping of str to numpy.ndarray
        Boolean 3D ROI masks.
    roi_centres_mm : mapping of str to (x, y, z)
        Their centres.
    affine : numpy.ndarray
        Affine of the grid.
    valid : numpy.ndarray
        Boolean 3D mask of voxels a moved ROI may cover (e.g. the brain).
    min_distance_mm : float
        Smallest distance of a moved centre from every ROI centre
        (:func:`null_distance_mm`).
    max_positions : int
        At most this many positions per ROI (evenly spaced).

    Returns
    -------
    dict of str to list of numpy.ndarray
        Per ROI, boolean 3D masks of the moved shapes (possibly none).
    """
    inverse = np.linalg.inv(affine)
    ijk_valid = np.argwhere(valid)
    world = ijk_valid @ affine[:3, :3].T + affine[:3, 3]
    centres = np.asarray([roi_centres_mm[name] for name in roi_masks], float)
    far = np.min(np.linalg.norm(world[:, None, :] - centres[None], axis=-1), axis=1)
    candidates = ijk_valid[far > min_distance_mm]
    out = {}
    for name, mask in roi_masks.items():
        voxels = np.argwhere(mask)
        centre = np.rint(
            inverse[:3, :3] @ np.asarray(roi_centres_mm[name], float) + inverse[:3, 3]
        ).astype(int)
        moved = _null_positions(candidates, voxels - centre, valid, max_positions)
        shapes = []
        for position in moved:
            shape = np.zeros(valid.shape, bool)
            shape[position[:, 0], position[:, 1], position[:, 2]] = True
            shapes.append(shape)
        out[name] = shapes
    return out
