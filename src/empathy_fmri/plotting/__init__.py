"""Figures: one module per figure family and the shared style; the only user of matplotlib."""
