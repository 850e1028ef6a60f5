"""The simulator: design, HRF and activation, noise, motion, population, behaviour, subjects."""
