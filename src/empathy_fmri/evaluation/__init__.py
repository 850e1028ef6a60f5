"""Grading against the truth: recovery, map accuracy, measurement model, power, replicates."""
