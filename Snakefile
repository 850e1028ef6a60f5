# empathy-fmri: a simulated empathy-for-pain fMRI study, analysed and graded.
# Stages, in order: simulate -> first level -> group -> ROI -> brain-behaviour.
import time

from empathy_fmri.io.console import finished_message

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
include: "workflow/rules/figures.smk"


onstart:
    print(f"empathy-fmri: {len(SUBJECTS)} subjects, config {CONFIG_HASH}; results in results/, logs in logs/")


onsuccess:
    # What is on disk, not what was asked for: the bottom line as its rule wrote it.
    try:
        print(finished_message(RESULTS, RUN_STARTED, CONCLUSION,
                               [rules.brain_behaviour.output.table, rules.power_monte_carlo.output.table]))
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
        print("empathy-fmri: a job failed; its log under logs/ says why (path printed above).")


# Grading needs the truth, so it runs only on the simulated dataset.
GRADING = [
    rules.simulate_truth.output,
    rules.validate_figure_truth_vs_estimate.output,
    rules.validate_summary.output,
    rules.validate_amplitudes.output,
    rules.validate_maps.output,
    rules.validate_roi_placement.output,
    rules.validate_noise.output,
    rules.validate_figure_selections.output,
    rules.validate_correlations.output,
    rules.power_figures.output,
]


rule all:
    default_target: True
    input:
        rules.brain_behaviour.output,
        rules.group_level.output,
        BEHAVIOUR_MAP_FILES,
        FIGURE_FILES,
        rules.conclusion.output,
        GRADING if SIMULATED else [],
