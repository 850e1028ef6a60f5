"""Who the simulated participants are: latent trait, ROI amplitudes, behaviour, HRF.

Per subject ``s`` and ROI ``r`` the needle-minus-swab amplitude is::

    delta[s, r] = mean[r] + sd[r] * (rho[r] * z[s]
                  + sqrt(1 - rho[r]^2) * (sqrt(q) * g[s] + sqrt(1 - q) * e[s, r]))

where ``z[s]`` is a latent "neural resonance" trait that also drives the
deontological parameter D of the moral dilemma task, ``g[s]`` a shared
responsiveness that raises or lowers every region of a person together but
has nothing to do with behaviour, and ``q`` its share
(``signal.shared_responsiveness``). Two regions' true amplitudes then
correlate ``rho[r] rho[r'] + q sqrt((1 - rho[r]^2) (1 - rho[r']^2))``, and
each region's correlation with the trait stays ``rho[r]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from empathy_fmri.config.sections import BehaviourConfig, SignalConfig, SimulationConfig
from empathy_fmri.simulation.behaviour import latent_to_probability, simulate_responses
from empathy_fmri.simulation.seeding import subject_rng
from empathy_fmri.task.conditions import SCORES
from empathy_fmri.task.process_dissociation import estimate_process_dissociation

__all__ = [
    "Participant",
    "region_amplitudes",
    "SubjectTruth",
    "draw_participant",
    "draw_subject",
    "participant_id",
    "population_correlations",
    "run_amplitudes",
    "subject_behaviour",
]


@dataclass(frozen=True)
class SubjectTruth:
    """Hidden truth about one simulated participant.

    Attributes
    ----------
    participant_id : str
        BIDS label with prefix, e.g. ``sub-01``.
    trait : float
        Latent neural-resonance trait (standard normal).
    needle_minus_swab_psc : dict of str to float
        True ROI-average amplitude per ROI (psc).
    d_true, u_true : float
        True process-dissociation parameters.
    hrf_delay_s, hrf_undershoot_s : float
        The subject's haemodynamic response parameters.
    age : int
        Age in years.
    sex : str
        ``F`` or ``M``.
    """

    participant_id: str
    trait: float
    needle_minus_swab_psc: dict[str, float] = field(default_factory=dict)
    d_true: float = 0.5
    u_true: float = 0.3
    hrf_delay_s: float = 6.0
    hrf_undershoot_s: float = 16.0
    age: int = 20
    sex: str = "F"


def participant_id(subject_index: int, n_subjects: int) -> str:
    """BIDS participant label of a zero-based subject index (``sub-01``, ...)."""
    width = max(2, len(str(n_subjects)))
    return f"sub-{subject_index + 1:0{width}d}"


@dataclass(frozen=True)
class Participant:
    """What the behavioural data and demographics of one participant depend on.

    The part of :class:`SubjectTruth` that needs no brain model: a change of
    the signal or noise sections leaves it, and so the phenotype, unchanged.

    Attributes
    ----------
    participant_id : str
        BIDS label with prefix, e.g. ``sub-01``.
    trait : float
        Latent neural-resonance trait (standard normal).
    d_true, u_true : float
        True process-dissociation parameters.
    age : int
        Age in years.
    sex : str
        ``F`` or ``M``.
    """

    participant_id: str
    trait: float
    d_true: float
    u_true: float
    age: int
    sex: str


#: Draws of the "trait" stream before the ROI amplitudes: trait, unique D, unique U.
_PERSON_DRAWS = 3


def draw_participant(
    seed: int, behaviour: BehaviourConfig, subject_index: int, n_subjects: int
) -> Participant:
    """Draw one participant's trait, true D and U, age and sex.

    These are the first draws of the subject's ``trait`` stream and its
    ``extra`` stream, exactly as :func:`draw_subject` makes them, so the two
    agree for the same seed and index.

    Parameters
    ----------
    seed : int
        The study's master seed.
    behaviour : BehaviourConfig
        The process-dissociation population model.
    subject_index : int
        Zero-based subject index.
    n_subjects : int
        Participants in the study (sets the width of the participant label).

    Returns
    -------
    Participant
    """
    rng = subject_rng(seed, subject_index, "trait")
    trait, unique_d, unique_u = rng.standard_normal(_PERSON_DRAWS)
    d_true = latent_to_probability(
        behaviour.D_mean,
        behaviour.D_sd_logit,
        behaviour.D_trait_coupling,
        np.array(trait),
        np.array(unique_d),
    )
    u_true = latent_to_probability(
        behaviour.U_mean,
        behaviour.U_sd_logit,
        behaviour.U_trait_coupling,
        np.array(trait),
        np.array(unique_u),
    )
    extra = subject_rng(seed, subject_index, "extra")
    return Participant(
        participant_id=participant_id(subject_index, n_subjects),
        trait=float(trait),
        d_true=float(d_true),
        u_true=float(u_true),
        age=int(np.clip(np.round(extra.normal(21.5, 3.0)), 18, 40)),
        sex=str(extra.choice(["F", "M"])),
    )


def draw_subject(simulation: SimulationConfig, subject_index: int, n_subjects: int) -> SubjectTruth:
    """Draw one participant's hidden truth from the config's population model.

    Parameters
    ----------
    simulation : SimulationConfig
        The simulation's seed, signal and behaviour models.
    subject_index : int
        Zero-based subject index.
    n_subjects : int
        Participants in the study (sets the width of the participant label).

    Returns
    -------
    SubjectTruth
        Trait, amplitudes, D/U, HRF and demographics; the same for the same
        seed and index whatever ``n_subjects`` is. Trait, D/U, age and sex
        are :func:`draw_participant`'s.
    """
    seed = simulation.seed
    person = draw_participant(seed, simulation.behaviour, subject_index, n_subjects)
    rng = subject_rng(seed, subject_index, "trait")
    rng.standard_normal(_PERSON_DRAWS)  # the participant's draws, taken above
    signal = simulation.signal
    shared = rng.standard_normal()
    unique = rng.standard_normal(len(signal.rois))
    values = region_amplitudes(signal, np.array(person.trait), np.array(shared), unique)
    amplitudes = {name: float(values[k]) for k, name in enumerate(signal.rois)}
    hrf_rng = subject_rng(seed, subject_index, "hrf")
    delay = float(np.clip(hrf_rng.normal(signal.hrf_delay_s, signal.hrf_delay_sd_s), 3, 10))
    undershoot = float(
        np.clip(
            hrf_rng.normal(signal.hrf_undershoot_s, signal.hrf_undershoot_sd_s),
            delay + 2,
            30,
        )
    )
    return SubjectTruth(
        participant_id=person.participant_id,
        trait=person.trait,
        needle_minus_swab_psc=amplitudes,
        d_true=person.d_true,
        u_true=person.u_true,
        hrf_delay_s=delay,
        hrf_undershoot_s=undershoot,
        age=person.age,
        sex=person.sex,
    )


def region_amplitudes(
    signal: SignalConfig, trait: np.ndarray, shared: np.ndarray, unique: np.ndarray
) -> np.ndarray:
    """True needle-minus-swab amplitude of every region from a person's latent draws.

    Parameters
    ----------
    signal : SignalConfig
        Each region's mean, SD and trait coupling, and the shared
        responsiveness (see the module docstring).
    trait, shared : numpy.ndarray
        Standard-normal trait and shared responsiveness, of any shape ``S``.
    unique : numpy.ndarray
        Standard-normal region-specific draws, shape ``(*S, n_regions)`` in
        the order of ``signal.rois``.

    Returns
    -------
    numpy.ndarray
        ``(*S, n_regions)`` amplitudes (psc).
    """
    names = list(signal.rois)
    if unique.shape != (*np.shape(trait), len(names)):
        raise ValueError(
            f"unique must have shape {(*np.shape(trait), len(names))}, got {unique.shape}"
        )
    mean = np.array([signal.rois[name].mean_psc for name in names])
    sd = np.array([signal.rois[name].sd_psc for name in names])
    rho = np.array([signal.rois[name].trait_coupling for name in names])
    q = signal.shared_responsiveness
    person = np.sqrt(q) * np.asarray(shared)[..., None] + np.sqrt(1.0 - q) * unique
    return mean + sd * (rho * np.asarray(trait)[..., None] + np.sqrt(1.0 - rho**2) * person)


def subject_behaviour(
    seed: int,
    behaviour: BehaviourConfig,
    subject_index: int,
    truth: SubjectTruth | Participant,
) -> dict:
    """Simulate one participant's dilemma responses and their PD estimates.

    Parameters
    ----------
    seed : int
        The study's master seed.
    behaviour : BehaviourConfig
        The dilemma task.
    subject_index : int
        Zero-based subject index.
    truth : SubjectTruth or Participant
        The participant's true D and U, from :func:`draw_subject` or
        :func:`draw_participant`.

    Returns
    -------
    dict
        Counts of harm accepted/rejected per dilemma kind, ``D``, ``U``,
        ``willingness_to_harm`` and ``pd_edge_case``.
    """
    n_c, n_i = behaviour.n_congruent, behaviour.n_incongruent
    rng = subject_rng(seed, subject_index, "behaviour")
    congruent, incongruent = simulate_responses(
        rng, np.array([truth.d_true]), np.array([truth.u_true]), n_c, n_i
    )
    estimates = estimate_process_dissociation(congruent, incongruent, n_c, n_i).iloc[0]
    return {
        "congruent_harm_rejected": int(congruent[0]),
        "congruent_harm_accepted": int(n_c - congruent[0]),
        "incongruent_harm_rejected": int(incongruent[0]),
        "incongruent_harm_accepted": int(n_i - incongruent[0]),
        "D": float(estimates["D"]),
        "U": float(estimates["U"]),
        "willingness_to_harm": float(estimates["willingness_to_harm"]),
        "pd_edge_case": bool(estimates["pd_edge_case"]),
    }


def population_correlations(
    signal: SignalConfig, behaviour: BehaviourConfig, n_draws: int = 1_000_000, seed: int = 0
) -> pd.DataFrame:
    """Population correlation of each ROI's true amplitude with each score.

    Computed by Monte Carlo over ``n_draws`` simulated people (standard error
    about ``(1 - r^2) / sqrt(n_draws)``, 0.001 at the default).

    Parameters
    ----------
    signal : SignalConfig
        The ROI amplitude models.
    behaviour : BehaviourConfig
        The dilemma task and process-dissociation models.
    n_draws : int
        Simulated people.
    seed : int
        Seed of this computation (not the study's).

    Returns
    -------
    pandas.DataFrame
        Columns ``roi``, ``score``, ``r`` (true amplitude vs. the true score:
        D, U or the expected willingness to harm ``1 - (1 - U) D``) and
        ``r_measured_score`` (vs. the score as the dilemma task measures it,
        i.e. attenuated by binomial sampling of the responses).
    """
    rng = np.random.default_rng(seed)
    trait = rng.standard_normal(n_draws)
    d_true = latent_to_probability(
        behaviour.D_mean,
        behaviour.D_sd_logit,
        behaviour.D_trait_coupling,
        trait,
        rng.standard_normal(n_draws),
    )
    u_true = latent_to_probability(
        behaviour.U_mean,
        behaviour.U_sd_logit,
        behaviour.U_trait_coupling,
        trait,
        rng.standard_normal(n_draws),
    )
    true_scores = {
        "willingness_to_harm": 1.0 - (1.0 - u_true) * d_true,
        "D": d_true,
        "U": u_true,
    }
    n_c, n_i = behaviour.n_congruent, behaviour.n_incongruent
    congruent, incongruent = simulate_responses(rng, d_true, u_true, n_c, n_i)
    measured = estimate_process_dissociation(congruent, incongruent, n_c, n_i)
    # The amplitude is linear in the trait, so its correlation with a score is
    # exactly coupling * corr(trait, score) (0 when it does not vary).
    trait_r = {score: _pearson(trait, true_scores[score]) for score in SCORES}
    trait_r_measured = {score: _pearson(trait, measured[score].to_numpy()) for score in SCORES}
    rows = []
    for name, model in signal.rois.items():
        rho = model.trait_coupling if model.sd_psc > 0 else 0.0
        for score in SCORES:
            rows.append(
                {
                    "roi": name,
                    "score": score,
                    "r": rho * trait_r[score],
                    "r_measured_score": rho * trait_r_measured[score],
                }
            )
    return pd.DataFrame(rows)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(y) == 0 or np.std(x) == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def run_amplitudes(
    rng: np.random.Generator, amplitudes: Mapping[str, float], sd_psc: float
) -> dict[str, float]:
    """One run's needle-minus-swab amplitudes: the subject's plus run-to-run variation.

    Parameters
    ----------
    rng : numpy.random.Generator
        The subject's ``run_amplitude`` stream.
    amplitudes : mapping of str to float
        The subject's amplitude per region (psc), its mean over runs.
    sd_psc : float
        Run-to-run SD (``signal.run_sd_psc``).

    Returns
    -------
    dict of str to float
        Amplitude per region in this run.
    """
    if sd_psc == 0:
        return dict(amplitudes)
    return {name: value + sd_psc * float(rng.normal()) for name, value in amplitudes.items()}
