"""The analysis half: first level, group level, ROIs and brain-behaviour statistics.

It reads what a real study has (BIDS images, events, confounds, phenotype) and
never imports ``empathy_fmri.simulation`` or ``empathy_fmri.evaluation``.
"""
