# First level: one nilearn GLM (FirstLevelModel's steps) per subject over all runs.


rule first_level:
    input:
        bold=run_files(bold_path),
        events=run_files(events_path),
        confounds=run_files(confounds_path) if config["analysis"]["confounds"] else [],
    output:
        maps=flat(subject_statmaps()),
        design_tsv=[str(design_matrix_path(GLM, "{subject}", TASK, r, "tsv")) for r in RUNS],
        design_png=[str(design_matrix_path(GLM, "{subject}", TASK, r, "png")) for r in RUNS],
    params:
        statmaps=lambda wildcards: subject_statmaps(wildcards.subject),
        analysis={
            key: config["analysis"][key]
            for key in (
                "hrf_model", "drift_model", "high_pass_hz", "noise_model",
                "smoothing_fwhm_mm", "confounds",
            )
        },
        tr=config["design"]["tr"],
    threads: 1
    resources:
        mem_mb=int(400 + 1000 * GRID_SCALE),
        runtime=int(10 + 5 * GRID_SCALE * len(RUNS)),
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        "logs/first_level/{subject}.log",
    benchmark:
        "benchmarks/first_level/{subject}.tsv",
    message:
        "First-level GLM of {wildcards.subject}"
    script:
        "../scripts/first_level.py"
