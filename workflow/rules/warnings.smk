# The warnings record: what a finished run must still be read with (results
# left empty by the configuration, participants left out, doubtful inputs),
# each naming the participant, file or config key. The report shows it beside
# the bottom line and the console prints it after the bottom line.

#: Made by the rule warnings_record; read by the report and onsuccess.
WARNINGS = RESULTS / "warnings.md"


rule warnings_record:
    input:
        participants=rules.participants_table.output.table,
        inputs=expand(rules.first_level.output.inputs, subject=SUBJECTS),
        stats=rules.brain_behaviour.output.json,
    output:
        text=report(
            WARNINGS,
            caption="../report/warnings.rst",
            category="0. Bottom line",
        ),
    params:
        n_subjects=len(SUBJECTS),
        # what config.checks.statistical_warnings reads: the job recomputes them
        analysis={
            key: config["analysis"][key]
            for key in ("rois", "scores", "alpha", "n_permutations_stats", "n_bootstrap")
        },
        phenotype=str(PHENOTYPE),
        excluded=sorted(EXCLUDED),
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}warnings_record.log",
    benchmark:
        f"{BENCHMARKS}warnings_record.tsv",
    message:
        "The run's warnings in plain words: {output.text}"
    script:
        "../scripts/warnings_record.py"
