"""The task's vocabulary: trial types, contrasts and behavioural scores."""

from __future__ import annotations

#: Trial types in events.tsv: a needle piercing a hand, a cotton swab touching it.
CONDITIONS = ("needle", "swab")


#: Contrast label (as in BIDS ``contrast-<label>``) -> nilearn contrast formula.
CONTRASTS = {
    "needleMinusSwab": "needle - swab",
    "needle": "needle",
    "swab": "swab",
    "video": "0.5 * needle + 0.5 * swab",
}


#: Behavioural scores of the moral dilemma task, as phenotype columns.
SCORES = ("willingness_to_harm", "D", "U")
