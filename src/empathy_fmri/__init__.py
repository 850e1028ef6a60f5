"""empathy-fmri: simulate and analyse an empathy-for-pain fMRI study.

The simulation half writes a BIDS dataset and keeps its ground truth apart;
the analysis half fits nilearn GLMs, extracts ROI contrasts and correlates
them with moral dilemma scores; the validation half grades the analysis
against the truth.
"""

__version__ = "0.1.0"
