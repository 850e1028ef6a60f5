# First level: one nilearn GLM (FirstLevelModel's steps) per subject over all runs.


rule first_level:
    input:
        bold=run_files("bold"),
        events=run_files("events"),
        confounds=confound_files(),
        masks=run_files("mask"),
    output:
        maps=flat(subject_statmaps()),
        design_tsv=str(design_matrix_path(GLM, "{subject}", TASK, "tsv")),
        design_png=str(design_matrix_path(GLM, "{subject}", TASK, "png")),
        inputs=str(GLM / "{subject}" / f"{{subject}}_task-{TASK}_desc-inputs.json"),
    params:
        statmaps=lambda wildcards: subject_statmaps(wildcards.subject),
        analysis={
            key: config["analysis"][key]
            for key in (
                "hrf_model", "drift_model", "high_pass_hz", "noise_model",
                "smoothing_fwhm_mm", "confounds", "conditions",
            )
        },
        source=SOURCE,
    threads: 1
    resources:
        mem_mb=int(400 + 1000 * GRID_SCALE),
        runtime=lambda wildcards: int(10 + 5 * GRID_SCALE * len(SUBJECT_RUNS[wildcards.subject])),
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}first_level/{{subject}}.log",
    benchmark:
        f"{BENCHMARKS}first_level/{{subject}}.tsv",
    message:
        "First-level GLM of {wildcards.subject}"
    script:
        "../scripts/first_level.py"


rule participants_table:
    input:
        inputs=expand(rules.first_level.output.inputs, subject=SUBJECTS),
        # scores computed from raw dilemma counts are recorded here, edge cases too
        phenotype=PHENOTYPE if config["analysis"]["dilemmas"] else [],
    output:
        table=report(
            RESULTS / "analysis" / "participants.tsv",
            caption="../report/participants.rst",
            category="0. Data",
        ),
    params:
        listed=list(_listed),
        excluded=EXCLUDED,
        analysis={"dilemmas": config["analysis"]["dilemmas"]},
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}participants_table.log",
    benchmark:
        f"{BENCHMARKS}participants_table.tsv",
    message:
        "Participants: {n} analysed, {k} left out".format(n=len(SUBJECTS), k=len(EXCLUDED))
    script:
        "../scripts/participants_table.py"
