"""The bottom line of one study in plain words, generated from its result tables.

:func:`bottom_line` reads the brain-behaviour statistics, the power table and,
for a simulated study, the population correlations, and says in a few
paragraphs: what the study found by the analysis's own standard (Holm's
correction across the ROI x score family; nothing else is called
significant), how the significant results compare with the truth (wrong sign:
a type S error; too large: a type M error, ``|r| / |r_population|``; no
correlation in the population: a false positive), how often a study of this
size finds the correlation it is best placed to find, and what a study of this
design can honestly claim. Without a truth (``analysis.bids_dir``: real data)
the grading paragraph is left out and the power paragraph speaks of the
correlations the configuration assumes.

:func:`bottom_line_text` writes the paragraphs as a list that reads the same
as plain text (the console), Markdown (``summary.md``) and reStructuredText
(the report includes the file).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from empathy_fmri.evaluation.wording import number, percent
from empathy_fmri.task.scores import SCORE_NAMES

__all__ = [
    "INFLATED_RATIO",
    "NULL_R",
    "SCORE_NAMES",
    "bottom_line",
    "bottom_line_text",
]

#: A significant r of the right sign at least this many times the population
#: value is called inflated (type M error).
INFLATED_RATIO = 1.25
#: A population correlation smaller than this in size is "no correlation".
NULL_R = 0.01
#: Fewest significant simulated studies a type M / type S figure may rest on
#: unqualified: from 20 studies a type S share near 0.3 has a standard error
#: of sqrt(0.3 * 0.7 / 20) = 0.10 (the power figures leave such points out).
MIN_SIGNIFICANT_STUDIES = 20
#: Power below this: the design cannot settle the question; at or above the
#: second: well powered.
UNDERPOWERED, WELL_POWERED = 0.5, 0.8

_STATS_COLUMNS = {"roi", "selection", "score", "n", "r", "ci_low", "ci_high", "p", "p_corrected"}
_POWER_COLUMNS = {
    "sample_size",
    "roi",
    "score",
    "null_pair",
    "r_population",
    "r_expected",
    "power",
    "power_holm",
}


def _p(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def _times(value: float) -> str:
    return f"{value:.1f} times"


def _pair(roi: str, score: str) -> str:
    return f"{roi}\u2013{SCORE_NAMES.get(score, score)}"


def _plural(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def _estimate(row: pd.Series) -> str:
    return (
        f"{_pair(row.roi, row.score)}, r = {number(row.r)} "
        f"[{number(row.ci_low)}, {number(row.ci_high)}], p(Holm) {_p(row.p_corrected)}"
    )


def _check_columns(name: str, table: pd.DataFrame, required: set[str]) -> None:
    missing = required - set(table.columns)
    if missing:
        raise ValueError(f"{name} lacks the column(s) {sorted(missing)}")


def _finding(rows: pd.DataFrame, alpha: float) -> str:
    """What the study found, by the Holm standard only."""
    m = len(rows)
    significant = rows[rows["p_corrected"] < alpha]
    k, k_uncorrected = len(significant), int((rows["p"] < alpha).sum())
    standard = (
        f"after Holm's correction across the {m} ROI x score tests "
        f"(p(Holm) < {alpha:g}, the one significance standard used throughout)"
    )
    if k:
        text = (
            f"Finding: {k} of the {m} brain-behaviour correlations of the a-priori ROIs "
            f"{_plural(k, 'was', 'were')} significant {standard}: "
            + "; ".join(_estimate(row) for _, row in significant.iterrows())
            + "."
        )
    else:
        text = (
            f"Finding: none of the {m} brain-behaviour correlations of the a-priori ROIs "
            f"was significant {standard}."
        )
        defined = rows[np.isfinite(rows["r"].to_numpy(float))]
        if len(defined):
            best = defined.loc[defined["p"].idxmin()]
            text += f" The strongest was {_estimate(best)} (uncorrected p {_p(best.p)})."
    extra = k_uncorrected - k  # a Holm p is never below its p: these are the others
    if extra > 0:
        text += (
            f" {extra}{' more' if k else ''} had an uncorrected p below {alpha:g}; by "
            f"this standard {_plural(extra, 'it is', 'they are')} not significant."
        )
    return text


def _verdict(row: pd.Series, inflated_ratio: float) -> tuple[str, str]:
    """Class of one significant result against its population value, and the numbers."""
    pair, r, r_pop = _pair(row.roi, row.score), row.r, row.r_population
    if abs(r_pop) < NULL_R:
        return "false positive", f"{pair}, r = {number(r)} where the population value is 0"
    ratio = abs(r) / abs(r_pop)
    if np.sign(r) != np.sign(r_pop):
        return "wrong sign", (
            f"{pair}, r = {number(r)} where the population value is "
            f"{number(r_pop)} ({_times(ratio)} as large in size)"
        )
    if ratio >= inflated_ratio:
        return "inflated", (
            f"{pair}, r = {number(r)}: {_times(ratio)} the population value {number(r_pop)}"
        )
    return "right", f"{pair}, r = {number(r)} against a population value of {number(r_pop)}"


#: Per class of significant result: its name before the numbers, verb phrase (one, many).
_CLASSES = {
    "wrong sign": (
        "wrong sign",
        "has the wrong sign (type S error)",
        "have the wrong sign (type S error)",
    ),
    "false positive": ("false positive", "is a false positive", "are false positives"),
    "inflated": ("inflated", "is inflated (type M error)", "are inflated (type M error)"),
    "right": ("about right", "is about right in sign and size", "are about right in sign and size"),
}


def _grading(rows: pd.DataFrame, alpha: float, inflated_ratio: float) -> str:
    """The significant results (and all estimates) against the simulated truth."""
    significant = rows[rows["p_corrected"] < alpha]
    coupled = rows[rows["r_population"].abs() >= NULL_R]
    defined = coupled[np.isfinite(coupled["r"].to_numpy(float))]
    n_wrong = int((np.sign(defined["r"]) != np.sign(defined["r_population"])).sum())
    if len(significant):
        verdicts = [_verdict(row, inflated_ratio) for _, row in significant.iterrows()]
        counts = pd.Series([kind for kind, _ in verdicts]).value_counts()
        k = len(verdicts)
        if len(counts) == 1:
            kind = counts.index[0]
            subject = {1: "it", 2: "both"}.get(k, f"all {k}")
            summary = f"{subject} {_CLASSES[kind][1 + (k != 1)]}"
            details = [detail for _, detail in verdicts]
        else:
            summary = ", ".join(
                f"{count} {_CLASSES[kind][1 + (count != 1)]}"
                for kind in _CLASSES
                if (count := int(counts.get(kind, 0)))
            )
            details = [f"{_CLASSES[kind][0]}: {detail}" for kind, detail in verdicts]
        text = (
            f"Graded against the simulated truth: of the {k} significant "
            f"{_plural(k, 'correlation', 'correlations')}, {summary}: " + "; ".join(details) + "."
        )
        if len(coupled):
            found = int(
                (
                    (coupled["p_corrected"] < alpha)
                    & (np.sign(coupled["r"]) == np.sign(coupled["r_population"]))
                ).sum()
            )
            text += (
                f" The study detected {found} of the {len(coupled)} correlations that "
                "exist in the simulated population with the right sign."
            )
    elif len(coupled):
        largest = coupled.loc[coupled["r_population"].abs().idxmax()]
        text = (
            "Graded against the simulated truth: with no significant result there is no "
            f"wrong-sign or inflated result to report, but the study missed all "
            f"{len(coupled)} correlations that exist in the simulated population (the "
            f"largest: {_pair(largest.roi, largest.score)}, r = "
            f"{number(largest.r_population)}): misses (type II errors)."
        )
    else:
        return (
            "Graded against the simulated truth: none of the pairs is correlated in the "
            "simulated population, and none was found."
        )
    if len(defined):
        text += (
            f" Of the {len(defined)} estimates of correlations that exist in the "
            f"population, {n_wrong} had the wrong sign."
        )
    return text


def _best_pair(at_n: pd.DataFrame) -> pd.Series | None:
    coupled = at_n[~at_n["null_pair"].astype(bool)]
    if coupled.empty:
        return None
    order = coupled.assign(_size=coupled["r_population"].abs()).sort_values(
        ["power_holm", "_size"], ascending=False
    )
    return order.iloc[0]


def _required_n(power: pd.DataFrame, roi: str, score: str) -> tuple[int | None, int, float]:
    """Smallest simulated size with Holm power >= 80%; the largest size and its power."""
    rows = power[(power["roi"] == roi) & (power["score"] == score)].sort_values("sample_size")
    enough = rows[rows["power_holm"] >= WELL_POWERED]
    largest = rows.iloc[-1]
    needed = int(enough["sample_size"].iloc[0]) if len(enough) else None
    return needed, int(largest["sample_size"]), float(largest["power_holm"])


def _inflation_words(best: pd.Series, simulated: bool) -> str:
    """Type M and S of the studies significant after Holm, if the table has them."""
    ratio = best.get("exaggeration_ratio_holm", np.nan)
    type_s = best.get("type_s_holm", np.nan)
    if not np.isfinite(ratio):
        return ""
    value = "population value" if simulated else "assumed value"
    text = (
        f" When it does, the significant r is on average {_times(ratio)} the {value} "
        f"in size (type M) and has the wrong sign in {percent(type_s)} of those studies "
        "(type S)."
    )
    count = best.get("n_significant_holm", np.nan)
    if np.isfinite(count) and count < MIN_SIGNIFICANT_STUDIES:
        text += (
            f" Both rest on only {int(count)} significant simulated studies, too few to "
            "pin them down (more power.n_studies would)."
        )
    return text


def _power_paragraph(power: pd.DataFrame, n: int, simulated: bool) -> tuple[str, pd.Series | None]:
    at_n = power[power["sample_size"] == n]
    if at_n.empty:
        sizes = ", ".join(str(s) for s in sorted(power["sample_size"].unique()))
        return (
            f"Power: the power table has no row at this study's N = {n} (it has N = "
            f"{sizes}), so how often a study of this size detects each correlation is "
            "not known here."
        ), None
    best = _best_pair(at_n)
    if best is None:
        text = (
            f"Power: {'the simulated population' if simulated else 'the configuration'} "
            "has no brain-behaviour correlation, so there is nothing to detect; every "
            "significant result would be a false positive."
        )
    else:
        pair = _pair(best.roi, best.score)
        if simulated:
            text = (
                f"Power: a study of this size (N = {n}) detects the correlation it is best "
                f"placed to find, {pair} (population r = {number(best.r_population)}; "
                f"{number(best.r_expected)} once measurement error in the brain measure and "
                f"the score attenuates it), {percent(best.power_holm)} of the time after "
                f"Holm's correction ({percent(best.power)} uncorrected)."
            )
        else:
            text = (
                f"Power: if the correlations were as strong as the configuration assumes "
                f"(the best placed: {pair}, r = {number(best.r_population)}, or "
                f"{number(best.r_expected)} after the measurement error calibrated on these "
                f"data), a study of this size (N = {n}) would detect it "
                f"{percent(best.power_holm)} of the time after Holm's correction "
                f"({percent(best.power)} uncorrected)."
            )
        text += _inflation_words(best, simulated)
        needed, largest, at_largest = _required_n(power, best.roi, best.score)
        if needed is not None and needed > n:
            text += f" 80% power after Holm needs N = {needed} of the simulated sizes."
        elif needed is None:
            text += (
                f" No simulated size reaches 80% power after Holm (N = {largest}: "
                f"{percent(at_largest)})."
            )
    if {"fwer_holm", "fwer_uncorrected", "n_null_pairs"} <= set(at_n.columns):
        first = at_n.iloc[0]
        if np.isfinite(first.fwer_holm) and int(first.n_null_pairs) > 0:
            who = (
                "uncorrelated in the population"
                if simulated
                else "the configuration assumes uncorrelated"
            )
            text += (
                f" The {int(first.n_null_pairs)} pairs {who} give at least one "
                f"Holm-significant false positive in {percent(first.fwer_holm)} of such "
                f"studies ({percent(first.fwer_uncorrected)} without the correction)."
            )
    return text, best


def _claim(rows: pd.DataFrame, best: pd.Series | None, power: pd.DataFrame, alpha: float) -> str:
    """What a real study of this design could honestly claim."""
    width = float((rows["ci_high"] - rows["ci_low"]).mean())
    k = int((rows["p_corrected"] < alpha).sum())
    lead = "What a study of this design can honestly claim: "
    intervals = (
        f"its 95% intervals of r are on average {number(width)} wide, so one "
        "estimate pins down little"
    )
    if best is None:
        return (
            lead
            + f"that it found no evidence of a correlation; {intervals}."
            + (" Its significant results are false positives by construction." if k else "")
        )
    achieved = float(best.power_holm)
    needed, largest, _ = _required_n(power, best.roi, best.score)
    size = f"N = {needed}" if needed is not None else f"more than N = {largest}"
    if achieved < UNDERPOWERED:
        text = (
            lead + "little about these correlations. At this power a significant "
            "correlation is likely to be exaggerated, possibly with the wrong sign, rather "
            "than a fair estimate, and a non-significant one is no evidence that the "
            f"correlation is absent; {intervals}. It can report the estimates with their "
            f"intervals as exploratory and name the sample a test would need ({size} for 80% "
            "power after Holm)."
        )
        if k:
            text += (
                " The significant correlation here needs"
                if k == 1
                else f" The {k} significant correlations here need"
            ) + (" replication before being called a finding.")
        return text
    ratio = best.get("exaggeration_ratio_holm", np.nan)
    overstated = f" (type M about {number(ratio, 1)})" if np.isfinite(ratio) else ""
    if achieved < WELL_POWERED:
        return (
            lead + "a significant correlation of the expected sign is suggestive but its "
            f"size is likely overstated{overstated}; a non-significant one does not rule "
            f"out a correlation of the assumed size ({size} for 80% power after Holm)."
        )
    return (
        lead + "it is well powered for correlations of the assumed size: a significant "
        f"one is credible in sign and roughly in size{overstated}, and a non-significant "
        f"one argues against a correlation as strong as r = {number(best.r_population)}."
    )


def _selections(stats: pd.DataFrame, alpha: float) -> str | None:
    """The other ROI selections, counted by the same Holm standard."""
    parts = []
    for selection, rows in stats.groupby("selection", sort=False):
        if selection == "independent":
            continue
        k = int((rows["p_corrected"] < alpha).sum())
        part = f"{selection} {k} of {len(rows)}"
        if selection == "behaviour_peak":
            part += " (ROIs chosen on the same scores, double dipping: that p is not a valid test)"
        parts.append(part)
    if not parts:
        return None
    return "Other ROI selections, same standard (significant after Holm): " + "; ".join(parts) + "."


def bottom_line(
    stats: pd.DataFrame,
    power: pd.DataFrame,
    alpha: float,
    population: pd.DataFrame | None = None,
    inflated_ratio: float = INFLATED_RATIO,
) -> list[str]:
    """Say what a study found, how right it was and what it can claim, in paragraphs.

    Parameters
    ----------
    stats : pandas.DataFrame
        ``brain_behaviour.tsv``: ``roi``, ``selection``, ``score``, ``n``,
        ``r``, ``ci_low``, ``ci_high``, ``p`` (uncorrected) and
        ``p_corrected`` (Holm across the selection's ROI x score family). The
        ``independent`` (a-priori) rows are the study's result; the other
        selections are counted in one closing sentence.
    power : pandas.DataFrame
        ``power.tsv`` (every sample size): ``sample_size``, ``roi``,
        ``score``, ``null_pair``, ``r_population``, ``r_expected``,
        ``power``, ``power_holm`` and, where present,
        ``exaggeration_ratio_holm``, ``type_s_holm``, ``fwer_holm``,
        ``fwer_uncorrected``, ``n_null_pairs``. Its rows at the study's N
        (the largest ``n`` of the a-priori rows) are used.
    alpha : float
        The analysis's significance level (``analysis.alpha``), applied to
        ``p_corrected``.
    population : pandas.DataFrame, optional
        The simulated truth: ``roi``, ``score``, ``r_population``. None for
        real data (no grading paragraph; power speaks of the configuration's
        assumed correlations).
    inflated_ratio : float
        A significant r of the right sign at least this many times the
        population value in size is called inflated (type M error).

    Returns
    -------
    list of str
        Paragraphs, in order: finding; grading (simulated only); power;
        what the design can honestly claim; the other ROI selections (if
        any).
    """
    _check_columns("stats", stats, _STATS_COLUMNS)
    _check_columns("power", power, _POWER_COLUMNS)
    rows = stats[stats["selection"] == "independent"].copy()
    if rows.empty:
        raise ValueError("stats has no 'independent' (a-priori ROI) rows")
    rows["p_corrected"] = rows["p_corrected"].astype(float)
    n = int(rows["n"].max())
    paragraphs = [_finding(rows, alpha)]
    simulated = population is not None
    if simulated:
        _check_columns("population", population, {"roi", "score", "r_population"})
        graded = rows.merge(
            population[["roi", "score", "r_population"]], on=["roi", "score"], how="left"
        )
        if graded["r_population"].isna().any():
            missing = graded.loc[graded["r_population"].isna(), ["roi", "score"]]
            raise ValueError(f"population lacks the pair(s) {missing.values.tolist()}")
        paragraphs.append(_grading(graded, alpha, inflated_ratio))
    text, best = _power_paragraph(power, n, simulated)
    paragraphs.append(text)
    paragraphs.append(_claim(rows, best, power, alpha))
    selections = _selections(stats, alpha)
    if selections:
        paragraphs.append(selections)
    return paragraphs


#: Characters that are markup in Markdown or reStructuredText inside a paragraph.
_MARKUP = re.compile(r"([\\*`|])")
#: A trailing underscore makes a reST reference ("name_").
_REFERENCE = re.compile(r"(\w)_(?=\W|$)")


def bottom_line_text(paragraphs: Sequence[str]) -> str:
    """Write paragraphs as a list that is plain text, Markdown and reStructuredText at once.

    Parameters
    ----------
    paragraphs : sequence of str
        From :func:`bottom_line`.

    Returns
    -------
    str
        One ``- `` item per paragraph on one line, separated by blank lines;
        markup characters escaped with a backslash (none occur in the text
        :func:`bottom_line` writes).
    """
    items = []
    for paragraph in paragraphs:
        safe = _REFERENCE.sub(r"\1\\_", _MARKUP.sub(r"\\\1", " ".join(paragraph.split())))
        items.append(f"- {safe}")
    return "\n\n".join(items) + "\n"
