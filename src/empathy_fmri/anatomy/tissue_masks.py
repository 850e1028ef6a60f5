"""fMRIPrep's tissue masks for the confounds' mean signals, on the simulation grid.

fMRIPrep (20.2 and later; ``fmriprep.utils.confounds.acompcor_masks`` and the
``Binarize(thresh_low=0.99)`` of ``init_bold_confs_wf``) averages the BOLD
data over three tissue masks for its ``csf``, ``white_matter`` and
``csf_wm`` columns, and over the BOLD brain mask for ``global_signal``:

- grey matter is "present" where its partial-volume (PV) map exceeds 0.05,
  and that map is dilated by a ball of radius 3 (anatomical voxels, 1 mm);
- the WM mask is the WM PV map with the dilated grey matter set to 0 (an
  erosion where white matter meets grey, none elsewhere);
- the combined mask is CSF PV + WM PV with the dilated grey matter set to 0;
- the CSF mask is the CSF PV map as it is;
- each map, moved to the BOLD grid and restricted to the BOLD brain mask, is
  binarised at 0.99.

Here the PV maps are the simulator's own (nilearn's MNI152 grey- and
white-matter templates, CSF the remainder in the brain mask; see
:mod:`empathy_fmri.anatomy.template`), already on the BOLD grid, so there is
no resampling; the dilation ball has fMRIPrep's radius in mm
(:data:`GREY_DILATION_MM`), which on grids of 4 mm and coarser reaches no
neighbour. On the nilearn templates the WM mask holds 2342 voxels at 3 mm
(4667 before the grey-matter dilation) and the CSF mask 152.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from empathy_fmri.anatomy.template import Anatomy

__all__ = [
    "GREY_DILATION_MM",
    "GREY_PRESENT",
    "TISSUE_COLUMNS",
    "TISSUE_THRESHOLD",
    "confound_masks",
]

#: Grey-matter PV above which a voxel counts as holding grey matter (fMRIPrep).
GREY_PRESENT = 0.05
#: Radius of fMRIPrep's grey-matter dilation (``ball(3)`` on a 1 mm T1w grid), mm.
GREY_DILATION_MM = 3.0
#: PV at which fMRIPrep binarises the tissue masks on the BOLD grid.
TISSUE_THRESHOLD = 0.99
#: fMRIPrep's mean-signal columns, in the order it writes them.
TISSUE_COLUMNS = ("global_signal", "csf", "white_matter", "csf_wm")


def _ball(radius_mm: float, voxel_size_mm: float) -> np.ndarray:
    """Voxels whose centres lie within ``radius_mm`` of the centre voxel's."""
    reach = int(radius_mm // voxel_size_mm)
    offsets = np.arange(-reach, reach + 1) * voxel_size_mm
    distance = np.sqrt(
        sum(axis**2 for axis in np.meshgrid(offsets, offsets, offsets, indexing="ij"))
    )
    return distance <= radius_mm + 1e-9


def confound_masks(anatomy: Anatomy) -> dict[str, np.ndarray]:
    """The masks fMRIPrep averages over for each of :data:`TISSUE_COLUMNS`.

    Parameters
    ----------
    anatomy : Anatomy
        The grid, brain mask and tissue probability maps.

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean 3D masks keyed by :data:`TISSUE_COLUMNS`: the brain mask, and
        the CSF, WM and combined masks made as the module docstring says.

    Raises
    ------
    ValueError
        If a tissue mask is empty on this grid, naming it and the voxel size
        (``anatomy.voxel_size_mm``).
    """
    brain = anatomy.brain_mask
    grey = anatomy.grey_prob > GREY_PRESENT
    ball = _ball(GREY_DILATION_MM, anatomy.voxel_size_mm)
    if ball.sum() > 1:
        grey = ndimage.binary_dilation(grey, structure=ball)
    white = np.where(grey, 0.0, anatomy.white_prob)
    combined = np.where(grey, 0.0, anatomy.csf_prob + anatomy.white_prob)
    masks = {
        "global_signal": brain.copy(),
        "csf": brain & (anatomy.csf_prob > TISSUE_THRESHOLD),
        "white_matter": brain & (white > TISSUE_THRESHOLD),
        "csf_wm": brain & (combined > TISSUE_THRESHOLD),
    }
    for name, mask in masks.items():
        if not mask.any():
            raise ValueError(
                f"the '{name}' confound mask is empty on the {anatomy.voxel_size_mm:g} mm grid "
                f"(no brain voxel above a tissue probability of {TISSUE_THRESHOLD}); choose "
                "another 'anatomy.voxel_size_mm'"
            )
    return masks
