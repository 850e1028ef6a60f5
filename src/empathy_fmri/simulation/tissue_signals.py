"""fMRIPrep's mean tissue signals of a written BOLD run, with their expansions.

fMRIPrep's confounds file holds, per volume, the mean BOLD intensity over the
brain mask (``global_signal``), the CSF mask (``csf``), the white-matter mask
(``white_matter``) and the combined one (``csf_wm``), and for the first three
the temporal derivative (``_derivative1``, backward difference, ``n/a`` in
the first row), the square (``_power2``) and the squared derivative
(``_derivative1_power2``); nilearn's ``load_confounds`` strategies ``wm_csf``
and ``global_signal`` read them. The masks are
:func:`empathy_fmri.anatomy.tissue_masks.confound_masks`.

The means are of the image as it is written (int16 times the header's scale
factor), so that they equal what a reader of the file computes.
"""

from __future__ import annotations

from collections.abc import Mapping

import nibabel as nib
import numpy as np
import pandas as pd

__all__ = [
    "EXPANDED",
    "tissue_signals",
]

#: The tissue signals fMRIPrep expands with derivative and square (``csf_wm`` it does not).
EXPANDED = ("global_signal", "csf", "white_matter")


def _stored_values(image: nib.Nifti1Image, mask: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(n_voxels, n_scans)`` stored (unscaled) values in the mask, and the scale factor."""
    data = image.dataobj
    if isinstance(data, np.ndarray):
        slope, inter = image.header.get_slope_inter()
        raw = data[mask]
    else:  # a file's ArrayProxy: its own scaling
        slope, inter = data.slope, data.inter
        raw = np.asarray(data.get_unscaled())[mask]
    slope = 1.0 if slope is None or np.isnan(slope) else float(slope)
    inter = 0.0 if inter is None or np.isnan(inter) else float(inter)
    return raw, slope, inter


def tissue_signals(image: nib.Nifti1Image, masks: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Mean intensity of a 4D image over each mask, per volume, with fMRIPrep's expansions.

    Parameters
    ----------
    image : nibabel.Nifti1Image
        The run as written (4D; int16 with a scale factor, or float).
    masks : mapping of str to numpy.ndarray
        Boolean 3D masks on the image's grid, keyed by column name (in the
        order fMRIPrep writes them, e.g.
        :data:`~empathy_fmri.anatomy.tissue_masks.TISSUE_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        One row per volume: each mask's mean and, for the masks in
        :data:`EXPANDED`, ``<name>_derivative1`` (NaN in the first row),
        ``<name>_derivative1_power2`` and ``<name>_power2``, in fMRIPrep's
        column order.
    """
    columns: dict[str, np.ndarray] = {}
    for name, mask in masks.items():
        raw, slope, inter = _stored_values(image, mask)
        # the integer sum is exact; scaling the mean equals the mean of the scaled values
        mean = raw.sum(axis=0, dtype=np.float64) / raw.shape[0] * slope + inter
        columns[name] = mean
        if name in EXPANDED:
            derivative = np.concatenate([[np.nan], np.diff(mean)])
            columns[f"{name}_derivative1"] = derivative
            columns[f"{name}_derivative1_power2"] = derivative**2
            columns[f"{name}_power2"] = mean**2
    return pd.DataFrame(columns)
