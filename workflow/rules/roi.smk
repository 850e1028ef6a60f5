# ROI extraction: place the ROIs (a-priori spheres; spheres on the group peak;
# spheres on the voxel correlating most with each score, on all subjects and
# leaving each subject out), fit each subject's ROI-mean GLM on the unsmoothed
# data, gather every amplitude into one table.

#: Every analysed run of a dataset from elsewhere, for the ROI check on its own grid.
_ANALYSED_RUNS = [run for s in SUBJECTS for run in SUBJECT_RUNS[s]]


rule roi_coverage:
    # the ROIs measured on the data's own grid, inside its brain masks (the
    # config check before any job measures them on the simulation grid);
    # only a dataset from elsewhere (analysis.bids_dir) needs it
    input:
        masks=[str(run.mask) for run in _ANALYSED_RUNS if run.mask is not None],
        bolds=[str(run.bold) for run in _ANALYSED_RUNS if run.mask is None],
    output:
        table=RESULTS / "analysis" / "roi_coverage.tsv",
    params:
        analysis={
            key: config["analysis"][key] for key in ("rois", "roi_radius_mm", "min_roi_voxels")
        },
        grey_matter_threshold=config["anatomy"]["grey_matter_threshold"],
    # run before the first levels, so that a bad ROI stops the study at once
    priority: 50
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}roi_coverage.log",
    benchmark:
        f"{BENCHMARKS}roi_coverage.tsv",
    message:
        "Checking {n} ROIs on the data's grid inside its brain masks".format(n=len(ROIS))
    script:
        "../scripts/roi_coverage.py"


rule roi_definitions:
    input:
        group_z=rules.group_level.output.z,
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        phenotype=PHENOTYPE,
        # a dataset from elsewhere: its ROIs were checked on its own grid first
        coverage=[] if SIMULATED else rules.roi_coverage.output.table,
    output:
        centres=RESULTS / "roi" / "roi_centres.tsv",
    params:
        subjects=SUBJECTS,
        anatomy=config["anatomy"],
        analysis={
            key: config["analysis"][key]
            for key in (
                "rois", "roi_radius_mm", "selection_search_radius_mm", "scores", "dilemmas",
            )
        },
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}roi_definitions.log",
    benchmark:
        f"{BENCHMARKS}roi_definitions.tsv",
    message:
        "Placing {n} ROIs: a-priori, on the group peak, on the behaviour peak (all "
        "subjects and cross-fitted in two halves)".format(n=len(ROIS))
    script:
        "../scripts/roi_definitions.py"


rule roi_glm:
    input:
        bold=run_files("bold"),
        events=run_files("events"),
        confounds=confound_files(),
        masks=run_files("mask"),
        centres=rules.roi_definitions.output.centres,
        group_z=rules.group_level.output.z,
    output:
        table=RESULTS / "roi" / "{subject}" / f"{{subject}}_task-{TASK}_contrast-needleMinusSwab_roiglm.tsv",
    params:
        anatomy={"grey_matter_threshold": config["anatomy"]["grey_matter_threshold"]},
        analysis={
            key: config["analysis"][key]
            for key in (
                "hrf_model", "drift_model", "high_pass_hz", "noise_model", "confounds",
                "smoothing_fwhm_mm", "conditions",
            )
        },
        source=SOURCE,
    resources:
        mem_mb=int(300 + 500 * GRID_SCALE),
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}roi_glm/{{subject}}.log",
    benchmark:
        f"{BENCHMARKS}roi_glm/{{subject}}.tsv",
    message:
        "ROI-mean GLMs of {wildcards.subject} on the unsmoothed data"
    script:
        "../scripts/roi_glm.py"


rule roi_contrasts:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        roi_glm=expand(rules.roi_glm.output.table, subject=SUBJECTS),
        centres=rules.roi_definitions.output.centres,
    output:
        table=RESULTS / "roi" / "roi_contrasts.tsv",
        null=RESULTS / "roi" / "roi_glm_null_positions.tsv",
    params:
        subjects=SUBJECTS,
        anatomy={"grey_matter_threshold": config["anatomy"]["grey_matter_threshold"]},
        analysis={"roi_estimate": config["analysis"]["roi_estimate"]},
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}roi_contrasts.log",
    benchmark:
        f"{BENCHMARKS}roi_contrasts.tsv",
    message:
        "Needle-minus-swab amplitude of every subject in {n} ROIs ({estimate})".format(
            n=len(ROIS), estimate=config["analysis"]["roi_estimate"]
        )
    script:
        "../scripts/roi_contrasts.py"


rule reliability:
    # the agreement of each subject's ROI estimate between two halves of their
    # data (the roi_glm job fits both), for simulated and real data alike
    input:
        table=rules.roi_contrasts.output.table,
    output:
        table=RESULTS / "analysis" / "reliability.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}reliability.log",
    benchmark:
        f"{BENCHMARKS}reliability.tsv",
    message:
        "Split-half reliability (ICC(3,1), Spearman-Brown) of every ROI estimate"
    script:
        "../scripts/reliability.py"
