"""The task itself, shared by simulation and analysis: conditions, HRF, dilemma scoring."""
