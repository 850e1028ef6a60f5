# The bottom line: what this study found by the analysis's Holm standard, how
# right it was (simulated runs only: wrong sign, inflated, false positive), how
# often a study of this size detects the correlations, and what it can honestly
# claim. The report opens with it, summary.md repeats it, the console prints it.

from empathy_fmri.evaluation.conclusion import INFLATED_RATIO

#: Made by the rule conclusion; read by the report, validate_summary and onsuccess.
CONCLUSION = RESULTS / "conclusion.md"


rule conclusion:
    input:
        stats=rules.brain_behaviour.output.table,
        # the path, not rules.power_monte_carlo.output: on real data the pilot writes it
        power=POWER / "power.tsv",
        # the graded correlations (with the population r) exist only for a simulation
        graded=[rules.validate_correlations.output.table] if SIMULATED else [],
    output:
        text=report(
            CONCLUSION,
            caption="../report/conclusion.rst",
            category="0. Bottom line",
        ),
    params:
        alpha=config["analysis"]["alpha"],
        inflated_ratio=INFLATED_RATIO,
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}conclusion.log",
    benchmark:
        f"{BENCHMARKS}conclusion.tsv",
    message:
        "The bottom line in plain words: {output.text}"
    script:
        "../scripts/conclusion.py"
