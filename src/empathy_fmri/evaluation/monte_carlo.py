"""Power and inflation of brain-behaviour correlations: a fast summary-level Monte Carlo.

A study of ``n`` participants is simulated at the level of its summaries, not
its images: each participant's true ROI amplitudes and process-dissociation
parameters come from the population model of :mod:`empathy_fmri.simulation.population`;
the analysis measures each amplitude as ``gain * delta + error``
(:class:`MeasurementModel`, calibrated from a run's first-level maps by
:func:`calibrate_measurement` and :func:`signal_gain`); the dilemma scores are
estimated from binomial responses with :mod:`empathy_fmri.simulation.behaviour`. Every
study's ROI x score Pearson correlations are then tested with the analytic
t test of Pearson's r (exact under the null for a normal brain measure, and
thousands of times faster than the permutation p of the real analysis). All
pairs of a study come from the same simulated people, so within each study
the p values of the whole ROI x score family are Holm-adjusted as the
analysis adjusts them (:func:`~empathy_fmri.evaluation.inference.batched_holm`):
the power is reported both uncorrected and with that correction, and so is the
family-wise false-positive rate over the pairs with no population correlation.

Summaries follow Gelman & Carlin (2014, Perspect Psychol Sci 9:641): power,
the exaggeration ratio (type M: mean ``|r|`` among significant studies over
``|r_population|``) and the type S error rate (share of significant studies
with the wrong sign). :func:`fisher_z_power` gives the analytic power of a
correlation test for comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import BehaviourConfig, SignalConfig, StudyConfig
from empathy_fmri.evaluation.inference import (
    batched_holm,
    batched_pearson,
    fisher_z_power,
    pearson_p_value,
)
from empathy_fmri.evaluation.measurement import MeasurementModel
from empathy_fmri.simulation.behaviour import latent_to_probability, simulate_responses
from empathy_fmri.simulation.population import region_amplitudes
from empathy_fmri.task.process_dissociation import estimate_process_dissociation

__all__ = [
    "CHUNK_PEOPLE",
    "PopulationModel",
    "expected_correlations",
    "family_wise_error",
    "null_pairs",
    "power_rng",
    "power_table",
    "simulate_correlations",
    "simulate_studies",
    "summarise_correlations",
]

logger = logging.getLogger(__name__)

#: People simulated at once; bounds memory (about 100 bytes per person per ROI).
CHUNK_PEOPLE = 200_000


@dataclass(frozen=True)
class PopulationModel:
    """What the fast Monte Carlo draws people from, and which scores it correlates.

    Attributes
    ----------
    seed : int
        The study's master seed (power streams add ``power.seed_offset``).
    signal : SignalConfig
        ROI amplitude models.
    behaviour : BehaviourConfig
        Dilemma task and process-dissociation models.
    scores : tuple of str
        Behavioural scores (``analysis.scores``).
    """

    seed: int
    signal: SignalConfig
    behaviour: BehaviourConfig
    scores: tuple[str, ...]

    @classmethod
    def from_study(cls, study: StudyConfig) -> PopulationModel:
        """Take the population model of a whole study configuration.

        Its ``signal`` holds the regions the analysis ROIs measure
        (:meth:`~empathy_fmri.config.sections.SignalConfig.for_rois`).
        """
        return cls(
            study.seed,
            study.signal.for_rois(list(study.analysis.rois)),
            study.behaviour,
            tuple(study.analysis.scores),
        )


def power_rng(seed: int, seed_offset: int, *key: int) -> np.random.Generator:
    """Generator of one part of the power simulations.

    Parameters
    ----------
    seed : int
        The study's master seed.
    seed_offset : int
        ``power.seed_offset``; the power streams use ``seed + seed_offset``.
    *key : int
        Spawn key of the part (e.g. the sample size), so that adding a sample
        size leaves the others' draws unchanged.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(np.random.SeedSequence(seed + seed_offset, spawn_key=key))


def null_pairs(signal: SignalConfig, behaviour: BehaviourConfig) -> dict[tuple[str, str], bool]:
    """Which ROI x score pairs have a population correlation of exactly zero.

    An ROI amplitude depends on the trait only through its
    ``trait_coupling``; D and U only through theirs; willingness to harm,
    ``1 - (1 - U) D``, through either.

    Parameters
    ----------
    signal : SignalConfig
        The ROI amplitude models.
    behaviour : BehaviourConfig
        The process-dissociation models.

    Returns
    -------
    dict of (roi, score) to bool
    """
    coupled = {
        "D": behaviour.D_trait_coupling != 0,
        "U": behaviour.U_trait_coupling != 0,
    }
    coupled["willingness_to_harm"] = coupled["D"] or coupled["U"]
    out = {}
    for roi, model in signal.rois.items():
        for score in coupled:
            out[(roi, score)] = (
                model.trait_coupling == 0 or model.sd_psc == 0 or (not coupled[score])
            )
    return out


def _draw_people(
    signal: SignalConfig,
    behaviour: BehaviourConfig,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    measurement: MeasurementModel | None,
    scores: Sequence[str],
    measure_behaviour: bool = True,
) -> dict[str, np.ndarray]:
    """Draw people from the population model and measure them.

    Returns
    -------
    dict
        ``delta`` and ``brain`` of shape ``(*shape, n_rois)``, ``true_scores``
        and ``scores`` of shape ``(*shape, n_scores)``.
    """
    rois = list(signal.rois)
    trait = rng.standard_normal(shape)
    unique_d = rng.standard_normal(shape)
    unique_u = rng.standard_normal(shape)
    shared = rng.standard_normal(shape)
    unique = rng.standard_normal((*shape, len(rois)))
    delta = region_amplitudes(signal, trait, shared, unique)
    measurement = measurement or MeasurementModel.perfect(rois)
    gain = np.array([measurement.gain[name] for name in rois])
    error_sd = np.array([measurement.error_sd_psc[name] for name in rois])
    brain = gain * delta
    if np.any(error_sd > 0):
        brain += error_sd * rng.standard_normal(delta.shape)
    d_true = latent_to_probability(
        behaviour.D_mean,
        behaviour.D_sd_logit,
        behaviour.D_trait_coupling,
        trait,
        unique_d,
    )
    u_true = latent_to_probability(
        behaviour.U_mean,
        behaviour.U_sd_logit,
        behaviour.U_trait_coupling,
        trait,
        unique_u,
    )
    true_scores = {"willingness_to_harm": 1.0 - (1.0 - u_true) * d_true, "D": d_true, "U": u_true}
    if measure_behaviour:
        n_c, n_i = behaviour.n_congruent, behaviour.n_incongruent
        congruent, incongruent = simulate_responses(rng, d_true, u_true, n_c, n_i)
        estimates = estimate_process_dissociation(congruent.ravel(), incongruent.ravel(), n_c, n_i)
        measured = {s: estimates[s].to_numpy(float).reshape(shape) for s in scores}
    else:
        measured = true_scores
    return {
        "delta": delta,
        "brain": brain,
        "true_scores": np.stack([true_scores[s] for s in scores], axis=-1),
        "scores": np.stack([measured[s] for s in scores], axis=-1),
    }


class _Moments:
    """Running sums for Pearson correlations over chunks of people."""

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, np.ndarray] = {}
        self.cross: dict[tuple[str, str], np.ndarray] = {}

    def add(self, people: Mapping[str, np.ndarray]) -> None:
        self.n += len(next(iter(people.values())))
        for key, values in people.items():
            self.sums[key] = self.sums.get(key, 0.0) + values.sum(axis=0)
        for a in people:
            for b in people:
                self.cross[(a, b)] = self.cross.get((a, b), 0.0) + people[a].T @ people[b]

    def correlation(self, a: str, b: str) -> np.ndarray:
        mean_a, mean_b = self.sums[a] / self.n, self.sums[b] / self.n
        cov = self.cross[(a, b)] / self.n - np.outer(mean_a, mean_b)
        var_a = np.diag(self.cross[(a, a)]) / self.n - mean_a**2
        var_b = np.diag(self.cross[(b, b)]) / self.n - mean_b**2
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.sqrt(np.outer(var_a, var_b))


def simulate_correlations(
    signal: SignalConfig,
    behaviour: BehaviourConfig,
    scores: Sequence[str],
    n_subjects: int,
    n_studies: int,
    rng: np.random.Generator,
    measurement: MeasurementModel | None = None,
    *,
    measure_behaviour: bool = True,
) -> np.ndarray:
    """Simulate many studies and return each one's brain-behaviour correlations.

    Parameters
    ----------
    signal : SignalConfig
        The ROI amplitude models.
    behaviour : BehaviourConfig
        The dilemma task and process-dissociation models.
    scores : sequence of str
        Behavioural scores (``analysis.scores``).
    n_subjects : int
        Participants per study (at least 4).
    n_studies : int
        Studies to simulate.
    rng : numpy.random.Generator
        Random source.
    measurement : MeasurementModel, optional
        How ROI amplitudes are measured; perfect (gain 1, no error) if None.
    measure_behaviour : bool
        Estimate the scores from simulated dilemma responses (True) or use the
        true scores (False: perfect behavioural measurement).

    Returns
    -------
    numpy.ndarray
        ``(n_studies, n_rois, n_scores)`` Pearson r, ROIs in config order;
        NaN where a score was constant within a study. All pairs of one study
        come from the same simulated people (one draw of ``n_subjects``
        people per study), so a study's correlations are as dependent as the
        real study's and can be corrected together.
    """
    if n_subjects < 4:
        raise ValueError(f"n_subjects must be at least 4, got {n_subjects}")
    if n_studies < 1:
        raise ValueError(f"n_studies must be at least 1, got {n_studies}")
    scores = list(scores)
    n_rois = len(signal.rois)
    out = np.empty((n_studies, n_rois, len(scores)))
    per_chunk = max(1, CHUNK_PEOPLE // n_subjects)
    for start in range(0, n_studies, per_chunk):
        stop = min(start + per_chunk, n_studies)
        people = _draw_people(
            signal,
            behaviour,
            (stop - start, n_subjects),
            rng,
            measurement,
            scores,
            measure_behaviour,
        )
        out[start:stop] = batched_pearson(people["brain"], people["scores"])
    return out


def _inflation(
    r: np.ndarray, significant: np.ndarray, r_population: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ``|r|``, exaggeration ratio and type S rate among the significant studies."""
    n_significant = significant.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_sig = np.where(significant, np.abs(r), 0.0).sum(axis=0) / n_significant
        wrong = (significant & (np.sign(r) != np.sign(r_population))).sum(axis=0)
        type_s = np.where(r_population != 0, wrong / n_significant, np.nan)
        exaggeration = np.where(r_population != 0, abs_sig / np.abs(r_population), np.nan)
    return abs_sig, exaggeration, type_s


def simulate_studies(
    population: PopulationModel,
    n_subjects: int,
    n_studies: int,
    measurement: MeasurementModel,
    seed_offset: int = 0,
) -> np.ndarray:
    """The simulated studies of one sample size that :func:`power_table` summarises.

    Each sample size has its own random stream (:func:`power_rng` with key
    ``(1, n_subjects)``), so these are the same studies whichever other sizes
    the table holds: a notebook that asks for one size gets the table's rows.

    Parameters
    ----------
    population : PopulationModel
        Seed, ROI amplitude and behaviour models, and the scores.
    n_subjects : int
        Participants per study.
    n_studies : int
        Studies to simulate.
    measurement : MeasurementModel
        How ROI amplitudes are measured.
    seed_offset : int
        ``power.seed_offset``.

    Returns
    -------
    numpy.ndarray
        ``(n_studies, n_rois, n_scores)`` Pearson r (:func:`simulate_correlations`).
    """
    rng = power_rng(population.seed, seed_offset, 1, int(n_subjects))
    return simulate_correlations(
        population.signal,
        population.behaviour,
        population.scores,
        int(n_subjects),
        n_studies,
        rng,
        measurement,
    )


def summarise_correlations(
    r: np.ndarray, n_subjects: int, r_population: np.ndarray, alpha: float
) -> dict[str, np.ndarray]:
    """Power, spread and inflation of simulated correlations.

    Parameters
    ----------
    r : numpy.ndarray
        ``(n_studies, ...)`` simulated correlations; the pairs of one study
        (everything but the first axis) are one family for the Holm
        correction.
    n_subjects : int
        Participants per study.
    r_population : numpy.ndarray
        Population correlation of each pair (shape ``r.shape[1:]``); zero
        marks a null pair, for which exaggeration and type S are undefined.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    dict of str to numpy.ndarray
        ``power`` (share of studies with uncorrected p < alpha; for a null
        pair the false-positive rate), ``power_mc_se`` (binomial Monte Carlo
        SE), ``power_holm`` and ``power_holm_mc_se`` (the same with the Holm
        p across the study's family: the test the analysis's ``p_corrected``
        makes), ``n_significant_holm``,
        ``r_median``, ``r_q025``, ``r_q975``, ``r_mean``,
        ``mean_abs_r_significant``, ``exaggeration_ratio`` (that over
        ``|r_population|``), ``type_s`` (share of significant studies whose r
        has the opposite sign of ``r_population``), the same three among the
        studies significant after Holm (``mean_abs_r_significant_holm``,
        ``exaggeration_ratio_holm``, ``type_s_holm``: the study's own test;
        NaN where no study was), ``n_significant`` and ``n_undefined``
        (studies where r was undefined; never significant).
    """
    n_studies = r.shape[0]
    r_population = np.asarray(r_population, float)
    p = pearson_p_value(r, n_subjects)
    significant = p < alpha
    n_significant = significant.sum(axis=0)
    power = n_significant / n_studies
    p_holm = batched_holm(p.reshape(n_studies, -1)).reshape(p.shape)
    n_significant_holm = (p_holm < alpha).sum(axis=0)
    power_holm = n_significant_holm / n_studies
    abs_sig, exaggeration, type_s = _inflation(r, significant, r_population)
    abs_sig_holm, exaggeration_holm, type_s_holm = _inflation(r, p_holm < alpha, r_population)
    quantiles = np.nanquantile(r, [0.025, 0.5, 0.975], axis=0)
    return {
        "power": power,
        "power_mc_se": np.sqrt(power * (1 - power) / n_studies),
        "power_holm": power_holm,
        "power_holm_mc_se": np.sqrt(power_holm * (1 - power_holm) / n_studies),
        "n_significant_holm": n_significant_holm,
        "r_median": quantiles[1],
        "r_q025": quantiles[0],
        "r_q975": quantiles[2],
        "r_mean": np.nanmean(r, axis=0),
        "mean_abs_r_significant": abs_sig,
        "exaggeration_ratio": exaggeration,
        "type_s": type_s,
        "mean_abs_r_significant_holm": abs_sig_holm,
        "exaggeration_ratio_holm": exaggeration_holm,
        "type_s_holm": type_s_holm,
        "n_significant": n_significant,
        "n_undefined": np.isnan(r).sum(axis=0),
    }


def family_wise_error(
    r: np.ndarray, n_subjects: int, null: np.ndarray, alpha: float
) -> dict[str, float]:
    """Family-wise false-positive rate over the null pairs, uncorrected and with Holm.

    Parameters
    ----------
    r : numpy.ndarray
        ``(n_studies, ...)`` simulated correlations; the pairs of one study
        are one family (the Holm correction runs over all of them, null or
        not, as in the analysis).
    n_subjects : int
        Participants per study.
    null : numpy.ndarray
        Boolean of shape ``r.shape[1:]``: pairs with a population r of
        exactly zero (:func:`null_pairs`).
    alpha : float
        Two-sided significance level.

    Returns
    -------
    dict of str to float
        ``family_size`` (pairs per study), ``n_null_pairs``,
        ``fwer_uncorrected`` and ``fwer_holm`` (share of studies in which at
        least one null pair has p < alpha, resp. Holm p < alpha; NaN without
        null pairs) and their binomial Monte Carlo SEs
        ``fwer_uncorrected_mc_se``, ``fwer_holm_mc_se``.
    """
    n_studies = r.shape[0]
    null = np.asarray(null, bool).reshape(-1)
    p = pearson_p_value(r, n_subjects).reshape(n_studies, -1)
    if null.size != p.shape[1]:
        raise ValueError(f"null has {null.size} pairs, r has {p.shape[1]} per study")
    out: dict[str, float] = {"family_size": float(p.shape[1]), "n_null_pairs": float(null.sum())}
    for name, values in (("uncorrected", p), ("holm", batched_holm(p))):
        rate = float((values[:, null] < alpha).any(axis=1).mean()) if null.any() else np.nan
        out[f"fwer_{name}"] = rate
        out[f"fwer_{name}_mc_se"] = float(np.sqrt(rate * (1 - rate) / n_studies))
    return out


def expected_correlations(
    signal: SignalConfig,
    behaviour: BehaviourConfig,
    scores: Sequence[str],
    measurement: MeasurementModel,
    rng: np.random.Generator,
    n_draws: int = 1_000_000,
) -> pd.DataFrame:
    """Population correlations, reliabilities and the correlation a study estimates.

    Parameters
    ----------
    signal : SignalConfig
        The ROI amplitude models.
    behaviour : BehaviourConfig
        The dilemma task and process-dissociation models.
    scores : sequence of str
        Behavioural scores (``analysis.scores``).
    measurement : MeasurementModel
        How ROI amplitudes are measured.
    rng : numpy.random.Generator
        Random source.
    n_draws : int
        Simulated people (Monte Carlo SE of each r about ``(1 - r^2) / sqrt(n_draws)``).

    Returns
    -------
    pandas.DataFrame
        One row per ROI x score: ``null_pair``; ``r_population`` (true
        amplitude vs. true score, exactly 0 for a null pair);
        ``reliability_brain`` (:meth:`MeasurementModel.reliability`);
        ``reliability_behaviour`` (squared correlation of the true score with
        the score estimated from binomial dilemma responses);
        ``r_attenuated`` (Spearman's ``r_population * sqrt(rel_brain * rel_behaviour)``);
        and ``r_expected`` (measured amplitude vs. measured score, computed
        directly: the value a study's r scatters around).
    """
    scores = list(scores)
    rois = list(signal.rois)
    is_null = null_pairs(signal, behaviour)
    reliability_brain = measurement.reliability(
        {name: model.sd_psc for name, model in signal.rois.items()}
    )
    moments = _Moments()
    for start in range(0, n_draws, CHUNK_PEOPLE):
        people = _draw_people(
            signal, behaviour, (min(CHUNK_PEOPLE, n_draws - start),), rng, measurement, scores
        )
        moments.add(people)
    r_true = moments.correlation("delta", "true_scores")
    r_measured = moments.correlation("brain", "scores")
    r_behaviour = np.diag(moments.correlation("true_scores", "scores"))
    rows = []
    for j, score in enumerate(scores):
        rel_behaviour = float(r_behaviour[j] ** 2)
        for k, roi in enumerate(rois):
            null = is_null[(roi, score)]
            r_pop = 0.0 if null else float(r_true[k, j])
            rows.append(
                {
                    "roi": roi,
                    "score": score,
                    "null_pair": null,
                    "r_population": r_pop,
                    "reliability_brain": reliability_brain[roi],
                    "reliability_behaviour": rel_behaviour,
                    "r_attenuated": r_pop * np.sqrt(reliability_brain[roi] * rel_behaviour),
                    "r_expected": 0.0 if null else float(np.nan_to_num(r_measured[k, j])),
                }
            )
    return pd.DataFrame(rows)


def power_table(
    population: PopulationModel,
    sample_sizes: Sequence[int],
    n_studies: int,
    measurement: MeasurementModel,
    alpha: float,
    seed_offset: int = 0,
    *,
    n_draws: int = 1_000_000,
) -> pd.DataFrame:
    """Power, spread and inflation of every ROI x score correlation by sample size.

    Parameters
    ----------
    population : PopulationModel
        Seed, ROI amplitude and behaviour models, and the scores.
    sample_sizes : sequence of int
        Participants per study.
    n_studies : int
        Simulated studies per sample size.
    measurement : MeasurementModel
        How ROI amplitudes are measured (:func:`calibrate_measurement`).
    alpha : float
        Two-sided significance level of each test.
    seed_offset : int
        ``power.seed_offset``: the draws come from :func:`power_rng`, one
        stream per sample size.
    n_draws : int
        People in the large sample of :func:`expected_correlations`.

    Returns
    -------
    pandas.DataFrame
        One row per sample size x ROI x score: the columns of
        :func:`expected_correlations`, of :func:`summarise_correlations`,
        ``power_fisher_z`` (analytic power at ``r_expected``, what the Monte
        Carlo should match), ``power_fisher_z_perfect`` (at ``r_population``:
        a perfectly measured study), ``exaggeration_ratio_expected`` (mean
        ``|r|`` among significant studies over ``|r_expected|``),
        the columns of :func:`family_wise_error` (one value per sample size,
        repeated on its rows), ``n_studies`` and ``alpha``. ``power`` is
        uncorrected; ``power_holm`` is the power of the test the analysis
        reports as significant after its Holm correction across the
        ``family_size`` ROI x score pairs.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if any(int(n) < 4 for n in sample_sizes):
        raise ValueError(f"sample_sizes must all be at least 4, got {list(sample_sizes)}")
    signal, behaviour, scores = population.signal, population.behaviour, population.scores
    rois = list(signal.rois)
    expected = expected_correlations(
        signal,
        behaviour,
        scores,
        measurement,
        power_rng(population.seed, seed_offset, 0),
        n_draws,
    )
    r_population = expected["r_population"].to_numpy().reshape(len(scores), len(rois)).T
    null = expected["null_pair"].to_numpy(bool).reshape(len(scores), len(rois)).T
    tables = []
    for n in sorted({int(n) for n in sample_sizes}):
        r = simulate_studies(population, n, n_studies, measurement, seed_offset)
        summary = summarise_correlations(r, n, r_population, alpha)
        table = expected.copy()
        table.insert(0, "sample_size", n)
        for key, values in summary.items():
            table[key] = np.asarray(values).T.ravel()
        table["power_fisher_z"] = fisher_z_power(table["r_expected"], n, alpha)
        table["power_fisher_z_perfect"] = fisher_z_power(table["r_population"], n, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["exaggeration_ratio_expected"] = np.where(
                table["null_pair"],
                np.nan,
                table["mean_abs_r_significant"] / table["r_expected"].abs(),
            )
        family = family_wise_error(r, n, null, alpha)
        for key, value in family.items():
            table[key] = int(value) if key in ("family_size", "n_null_pairs") else value
        table["n_studies"] = n_studies
        table["alpha"] = alpha
        tables.append(table)
        logger.info(
            "N = %d: %d studies simulated; family-wise false positives over %d null pairs: "
            "%.3f uncorrected, %.3f with Holm",
            n,
            n_studies,
            family["n_null_pairs"],
            family["fwer_uncorrected"],
            family["fwer_holm"],
        )
    return pd.concat(tables, ignore_index=True)
