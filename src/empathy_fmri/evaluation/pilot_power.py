"""Power, spread of r and exaggeration from a pilot's reliabilities, at chosen true r.

The counterpart of :func:`~empathy_fmri.evaluation.monte_carlo.power_table`
for a real dataset, where no population model exists: what fMRIpower
(Mumford & Nichols 2008) does for activation from pilot ROI data, here for
brain-behaviour correlations. The pilot supplies, per ROI, the SD of the true
amplitude and of its measurement error, and per score its reliability
(:mod:`empathy_fmri.evaluation.pilot_measurement`); the user supplies the true
correlations to plan for (``power.pilot.true_r``). Each simulated person has a
true amplitude ``t ~ N(0, true_sd^2)`` and a true score correlated ``true_r``
with it, both normal; the study measures ``t + N(0, error_sd^2)`` and the
score with its reliability. The sample r of each study is tested with the
analytic t test of Pearson's r, as in the simulated path
(:func:`~empathy_fmri.evaluation.monte_carlo.summarise_correlations`, which
also gives the spread of r, the exaggeration ratio and type S).

The measured pair is bivariate normal with correlation ``true_r * sqrt(rel_brain
* rel_score)`` (Spearman's attenuation, exact here), so ``power_fisher_z`` at
that value is what the Monte Carlo should match; the simulation is kept
explicit so that it says what is assumed, and can be extended to non-normal
amplitudes or scores.

The Holm correction needs the whole ROI x score family of a study, which the
user's single true r does not describe. Each pair is therefore tested in a
family of ``family_size`` tests whose other members are null and independent of
it (their r drawn from the exact null distribution): the fewest true effects
and no help from correlated tests, so ``power_holm`` is a conservative value
for the study's own corrected test.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.inference import batched_pearson, fisher_z_power
from empathy_fmri.evaluation.monte_carlo import CHUNK_PEOPLE, power_rng, summarise_correlations

__all__ = [
    "PILOT_STREAM",
    "null_correlations",
    "pilot_power_table",
    "simulate_pilot_correlations",
]

logger = logging.getLogger(__name__)

#: First spawn key of the pilot power streams (the simulated path uses 0 and 1).
PILOT_STREAM = 2


def simulate_pilot_correlations(
    true_r: float,
    true_sd: float,
    error_sd: float,
    score_reliability: Sequence[float],
    n_subjects: int,
    n_studies: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample r of many studies of one ROI against scores of given reliabilities.

    Parameters
    ----------
    true_r : float
        Correlation of the true amplitude with each true score, in (-1, 1).
    true_sd, error_sd : float
        Between-subject SD of the true amplitude and SD of its measurement
        error (same units, e.g. psc); not both 0.
    score_reliability : sequence of float
        Reliability of each score, in [0, 1]; the scores of one study share
        its people and their true score, and differ only in their error.
        Scores of equal reliability follow the same model, so they share one
        measured score (and get the same r).
    n_subjects : int
        People per study (at least 4).
    n_studies : int
        Studies to simulate.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        ``(n_studies, n_scores)`` Pearson r of the measured amplitude with
        each measured score.
    """
    if not -1 < true_r < 1:
        raise ValueError(f"true_r must lie in (-1, 1), got {true_r}")
    if true_sd < 0 or error_sd < 0 or true_sd == error_sd == 0:
        raise ValueError(f"need true_sd, error_sd >= 0, not both 0; got {true_sd}, {error_sd}")
    reliability = np.asarray(score_reliability, float)
    if reliability.ndim != 1 or not np.all((reliability >= 0) & (reliability <= 1)):
        raise ValueError(f"score_reliability must lie in [0, 1], got {score_reliability}")
    if n_subjects < 4 or n_studies < 1:
        raise ValueError(f"need n_subjects >= 4 and n_studies >= 1, got {n_subjects}, {n_studies}")
    distinct, column = np.unique(reliability, return_inverse=True)
    out = np.empty((n_studies, reliability.size))
    per_chunk = max(1, CHUNK_PEOPLE // n_subjects)
    for start in range(0, n_studies, per_chunk):
        shape = (min(per_chunk, n_studies - start), n_subjects)
        latent = rng.standard_normal(shape)
        brain = true_sd * latent + error_sd * rng.standard_normal(shape)
        true_score = true_r * latent + np.sqrt(1.0 - true_r**2) * rng.standard_normal(shape)
        scores = np.empty((*shape, distinct.size))
        for j, rel in enumerate(distinct):
            scores[..., j] = np.sqrt(rel) * true_score
            if rel < 1:
                scores[..., j] += np.sqrt(1.0 - rel) * rng.standard_normal(shape)
        r = batched_pearson(brain[..., None], scores)[:, 0, :]
        out[start : start + shape[0]] = r[:, column]
    return out


def null_correlations(
    n_subjects: int, n_studies: int, n_tests: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample r of independent null tests from the exact null distribution.

    Under no correlation and a normal variable, ``t = r sqrt((n - 2) / (1 -
    r^2))`` has Student's t distribution with ``n - 2`` df, so ``r = t /
    sqrt(t^2 + n - 2)`` with ``t`` drawn from it has the distribution of a
    sample r; no people need to be drawn.

    Parameters
    ----------
    n_subjects : int
        People per study (at least 4).
    n_studies, n_tests : int
        Studies, and null tests per study.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        ``(n_studies, n_tests)``.
    """
    if n_subjects < 4:
        raise ValueError(f"n_subjects must be at least 4, got {n_subjects}")
    df = n_subjects - 2
    t = rng.standard_t(df, size=(n_studies, n_tests))
    return t / np.sqrt(t**2 + df)


def _spawn_key(true_r: float) -> int:
    """Non-negative integer key of a true r, so that a stream follows its value."""
    return int(round(10_000 * true_r)) + 10_000


def pilot_power_table(
    brain: pd.DataFrame,
    scores: Mapping[str, float],
    true_r: Sequence[float],
    sample_sizes: Sequence[int],
    n_studies: int,
    alpha: float,
    seed: int,
    seed_offset: int = 0,
) -> pd.DataFrame:
    """Power, spread and inflation of every ROI x score correlation at each true r.

    Parameters
    ----------
    brain : pandas.DataFrame
        One row per ROI: ``measure`` (the ROI), ``true_sd``, ``error_sd`` and
        ``reliability`` (:func:`~empathy_fmri.evaluation.pilot_measurement.brain_measurement`).
    scores : mapping of str to float
        Reliability of each score, in [0, 1].
    true_r : sequence of float
        True correlations to plan for.
    sample_sizes : sequence of int
        Participants per study (each at least 4).
    n_studies : int
        Simulated studies per sample size and true r.
    alpha : float
        Two-sided significance level.
    seed, seed_offset : int
        The streams are :func:`~empathy_fmri.evaluation.monte_carlo.power_rng`
        keyed by :data:`PILOT_STREAM`, the sample size, the true r and the
        ROI, so that adding a sample size, a true r or an ROI leaves the
        others' draws unchanged.

    Returns
    -------
    pandas.DataFrame
        One row per sample size x true r x ROI x score: ``sample_size``,
        ``roi``, ``score``, ``true_r``, ``null_pair`` (true r 0),
        ``r_population`` (the true r), ``reliability_brain``,
        ``reliability_behaviour``, ``r_attenuated`` and ``r_expected`` (both
        ``true_r * sqrt(rel_brain * rel_behaviour)``, the correlation of the
        measured pair), the columns of
        :func:`~empathy_fmri.evaluation.monte_carlo.summarise_correlations`
        (``exaggeration_ratio``: mean ``|r|`` of significant studies over
        ``|true_r|``), ``power_fisher_z`` (at ``r_expected``),
        ``power_fisher_z_perfect`` (at ``true_r``),
        ``exaggeration_ratio_expected`` (over ``|r_expected|``),
        ``family_size`` (the Holm family: ROIs x scores), ``n_studies`` and
        ``alpha``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if any(int(n) < 4 for n in sample_sizes):
        raise ValueError(f"sample_sizes must all be at least 4, got {list(sample_sizes)}")
    missing = {"measure", "true_sd", "error_sd", "reliability"} - set(brain.columns)
    if missing:
        raise ValueError(f"brain lacks the column(s) {sorted(missing)}")
    score_names = list(scores)
    reliability_behaviour = np.array([scores[s] for s in score_names], float)
    family_size = len(brain) * len(score_names)
    rows = []
    for n in sorted({int(n) for n in sample_sizes}):
        for r_true in true_r:
            for k, roi in enumerate(brain.itertuples(index=False)):
                rng = power_rng(seed, seed_offset, PILOT_STREAM, n, _spawn_key(r_true), k)
                r = simulate_pilot_correlations(
                    r_true, roi.true_sd, roi.error_sd, reliability_behaviour, n, n_studies, rng
                )
                # one null family per ROI, so that scores of equal reliability (which
                # share their simulated values) get equal rows
                null = null_correlations(n, n_studies, family_size - 1, rng)
                population = np.zeros(family_size)
                population[0] = r_true
                summaries: dict[float, dict[str, float]] = {}
                for j, score in enumerate(score_names):
                    rel = float(reliability_behaviour[j])
                    if rel not in summaries:
                        family = np.column_stack([r[:, j], null])
                        summary = summarise_correlations(family, n, population, alpha)
                        summaries[rel] = {
                            key: np.asarray(v)[0].item() for key, v in summary.items()
                        }
                    expected = r_true * np.sqrt(roi.reliability * rel)
                    row = {
                        "sample_size": n,
                        "roi": roi.measure,
                        "score": score,
                        "true_r": float(r_true),
                        "null_pair": r_true == 0,
                        "r_population": float(r_true),
                        "reliability_brain": float(roi.reliability),
                        "reliability_behaviour": rel,
                        "r_attenuated": float(expected),
                        "r_expected": float(expected),
                    }
                    row.update(summaries[rel])
                    rows.append(row)
        logger.info(
            "N = %d: %d studies at each of %d true r x %d ROI(s)",
            n,
            n_studies,
            len(true_r),
            len(brain),
        )
    table = pd.DataFrame(rows)
    table["power_fisher_z"] = fisher_z_power(table["r_expected"], table["sample_size"], alpha)
    table["power_fisher_z_perfect"] = fisher_z_power(
        table["r_population"], table["sample_size"], alpha
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["exaggeration_ratio_expected"] = np.where(
            table["null_pair"] | (table["r_expected"] == 0),
            np.nan,
            table["mean_abs_r_significant"] / table["r_expected"].abs(),
        )
    table["family_size"] = family_size
    table["n_studies"] = n_studies
    table["alpha"] = alpha
    return table
