# empathy-fmri: a simulated empathy-for-pain fMRI study, analysed and graded.
# Stages, in order: simulate -> first level -> group -> ROI -> brain-behaviour.
import time

from empathy_fmri.io.console import finished_message
from empathy_fmri.io.stale_temporaries import remove_stale_temporaries, removal_message

#: When this run started: files written since are what it built (onsuccess).
RUN_STARTED = time.time()


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/firstlevel.smk"
include: "workflow/rules/group.smk"
include: "workflow/rules/roi.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/behaviour_maps.smk"
include: "workflow/rules/power.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/conclusion.smk"
include: "workflow/rules/warnings.smk"
include: "workflow/rules/figures.smk"


onstart:
    print(f"empathy-fmri: {len(SUBJECTS)} subjects, config {CONFIG_HASH}; results in {RESULTS}/, logs in {LOGS}")
    # A killed job's atomic writes leave hidden temporaries (.tmp-<id>-<name>);
    # none can be in use now (Snakemake holds the lock and has started no job).
    _temporaries = removal_message(remove_stale_temporaries([RESULTS]))
    if _temporaries:
        print(_temporaries)
    if SIMULATED:
        # a smaller n_subjects than last time: the simulator's own folders must
        # not keep the participants it no longer has (the dataset stays valid)
        _stale = remove_stale_subjects(
            [SIMULATED_BIDS, SIMULATED_DERIVATIVES, TRUTH, GLM, RESULTS / "roi"], SIMULATED_SUBJECTS
        )
        if _stale:
            _names = sorted({p.name for p in _stale})
            print(f"empathy-fmri: removed {len(_names)} participant(s) no longer in the study "
                  f"(n_subjects = {config['n_subjects']}): {', '.join(_names)}")


onsuccess:
    # What is on disk, not what was asked for: the bottom line as its rule wrote it.
    try:
        print(finished_message(RESULTS, RUN_STARTED, CONCLUSION,
                               [rules.brain_behaviour.output.table, rules.power_monte_carlo.output.table],
                               WARNINGS, rules.warnings_record.input))
    except OSError as err:  # the run succeeded; a message that cannot be read must not undo that
        print(f"empathy-fmri: done (the summary could not be read: {err}).")


onerror:
    # Snakemake passes its log file(s) and writes this line there when Ctrl-C
    # (SIGINT) stops the run, not when a job fails.
    interrupted = False
    for logfile in [log] if isinstance(log, str) else list(log or []):
        try:
            with open(logfile) as text:
                interrupted = interrupted or "Terminating processes on user request" in text.read()
        except OSError:
            pass
    if interrupted:
        print("empathy-fmri: interrupted (any job shown above as an error was stopped, not failed). "
              "Finished results are kept; run the same command again to go on "
              "(README.md, \"If a run is interrupted\").")
    else:
        print(f"empathy-fmri: a job failed; its log under {LOGS} says why (path printed above).")


# Grading needs the truth, so it runs only on the simulated dataset.
GRADING = [
    rules.simulate_truth.output,
    rules.validate_summary.output,
    rules.validate_amplitudes.output,
    rules.validate_maps.output,
    rules.validate_roi_placement.output,
    rules.validate_noise.output,
    rules.validate_figure_selections.output,
    rules.validate_correlations.output,
    rules.validate_reliability.output,
]
# Power holds for real data too: from the simulation's population model when
# there is one, otherwise from the pilot's own reliabilities (power.smk).
POWER_FILES = [rules.power_figures.output] + (
    [] if SIMULATED else [rules.power_pilot_measurement.output]
)


SIMULATED_DATASET = [rules.simulate_metadata.output, rules.simulate_phenotype.output]


rule all:
    default_target: True
    input:
        rules.participants_table.output,
        # every simulated participant, also those left out of the analysis
        expand(rules.simulate_subject.output.bold, subject=SIMULATED_SUBJECTS),
        expand(rules.simulate_events.output.events, subject=SIMULATED_SUBJECTS),
        rules.brain_behaviour.output,
        rules.group_level.output,
        # split-half reliability of every ROI estimate, simulated or real data
        rules.reliability.output,
        BEHAVIOUR_MAP_FILES,
        FIGURE_FILES,
        rules.conclusion.output,
        rules.warnings_record.output,
        GRADING if SIMULATED else [],
        POWER_FILES,
        # the dataset-level BIDS files no analysis job reads
        SIMULATED_DATASET if SIMULATED else [],
