# Figures: what people look at. Each rule draws one figure (PNG at 200 dpi, plus
# SVG for the charts) into results/figures/ and marks the PNG for the HTML report
# of `snakemake --report results/report.html`. Drawing code lives in
# empathy_fmri.plots_*; the rules only wire files to it.

FIGURES = RESULTS / "figures"
#: The subject and ROI of the single-subject figures: the first of each.
EXAMPLE_SUBJECT = SUBJECTS[0]
EXAMPLE_ROI = ROIS[0]


rule figure_task_timeline:
    input:
        events=run_files("events", EXAMPLE_SUBJECT)[0],
        # the run's length: from the design section for a simulated dataset (so
        # that the figure does not wait for, or follow, the noise and the first
        # level), from the first level's design matrix for a dataset from elsewhere
        design=[] if SIMULATED else expand(
            rules.first_level.output.design_tsv, subject=EXAMPLE_SUBJECT
        )[0],
    output:
        png=report(
            FIGURES / "task_timeline.png",
            caption="../report/task_timeline.rst",
            category="1. Task design",
        ),
        svg=FIGURES / "task_timeline.svg",
    params:
        conditions=config["analysis"]["conditions"],
        # a dataset from elsewhere: the TR of its first-level design matrix
        tr=config["design"]["tr"] if SIMULATED else None,
        hrf_model=config["analysis"]["hrf_model"],
        design=config["design"] if SIMULATED else None,
        subject=EXAMPLE_SUBJECT,
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_task_timeline.log",
    benchmark:
        f"{BENCHMARKS}figure_task_timeline.tsv",
    message:
        "Figure: task design of {params.subject}, run 1"
    script:
        "../scripts/figure_task_timeline.py"


rule figure_design_matrix:
    input:
        design=expand(rules.first_level.output.design_tsv, subject=EXAMPLE_SUBJECT)[0],
    output:
        png=report(
            FIGURES / "design_matrix.png",
            caption="../report/design_matrix.rst",
            category="1. Task design",
        ),
    params:
        subject=EXAMPLE_SUBJECT,
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_design_matrix.log",
    benchmark:
        f"{BENCHMARKS}figure_design_matrix.tsv",
    message:
        "Figure: first-level design matrix of {params.subject}"
    script:
        "../scripts/figure_design_matrix.py"


rule figure_roi_timeseries:
    input:
        bold=run_files("bold", EXAMPLE_SUBJECT),
        events=run_files("events", EXAMPLE_SUBJECT),
        design=expand(rules.first_level.output.design_tsv, subject=EXAMPLE_SUBJECT)[0],
        centres=rules.roi_definitions.output.centres,
    output:
        png=report(
            FIGURES / "roi_timeseries.png",
            caption="../report/roi_timeseries.rst",
            category="2. One subject",
        ),
        svg=FIGURES / "roi_timeseries.svg",
    params:
        subject=EXAMPLE_SUBJECT,
        roi=EXAMPLE_ROI,
        conditions=config["analysis"]["conditions"],
        radius_mm=config["analysis"]["roi_radius_mm"],
        grey_matter_threshold=config["anatomy"]["grey_matter_threshold"],
    resources:
        mem_mb=1500,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_roi_timeseries.log",
    benchmark:
        f"{BENCHMARKS}figure_roi_timeseries.tsv",
    message:
        "Figure: {params.roi} time series of {params.subject} with the GLM fit"
    script:
        "../scripts/figure_roi_timeseries.py"


rule figure_rois:
    input:
        # the analysis grid: a simulated dataset's is the anatomy's (so that the
        # figure neither waits for nor follows the data), another dataset's is
        # that of its BOLD runs
        reference=[] if SIMULATED else run_files("bold", EXAMPLE_SUBJECT)[0],
    output:
        png=report(
            FIGURES / "rois.png",
            caption="../report/rois.rst",
            category="3. Brain maps",
        ),
    params:
        rois=config["analysis"]["rois"],
        radius_mm=config["analysis"]["roi_radius_mm"],
        grey_matter_threshold=config["anatomy"]["grey_matter_threshold"],
        voxel_size_mm=config["anatomy"]["voxel_size_mm"] if SIMULATED else None,
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_rois.log",
    benchmark:
        f"{BENCHMARKS}figure_rois.tsv",
    message:
        "Figure: the {n} a-priori ROIs on the MNI152 template".format(n=len(ROIS))
    script:
        "../scripts/figure_rois.py"


rule figure_group_map:
    input:
        z_fwe=rules.group_level.output.z_fwe,
        summary=rules.group_level.output.summary,
        centres=rules.roi_definitions.output.centres,
    output:
        png=report(
            FIGURES / "group_map.png",
            caption="../report/group_map.rst",
            category="3. Brain maps",
        ),
    params:
        radius_mm=config["analysis"]["roi_radius_mm"],
        grey_matter_threshold=config["anatomy"]["grey_matter_threshold"],
        # the subjects analysed (for the caption: a dataset's own, after exclusions)
        n_subjects=len(SUBJECTS),
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_group_map.log",
    benchmark:
        f"{BENCHMARKS}figure_group_map.tsv",
    message:
        "Figure: group needle-minus-swab z map, FWE-thresholded, ROIs outlined"
    script:
        "../scripts/figure_group_map.py"


rule figure_roi_effects:
    input:
        table=rules.roi_contrasts.output.table,
    output:
        png=report(
            FIGURES / "roi_effects.png",
            caption="../report/roi_effects.rst",
            category="4. ROI effects",
        ),
        svg=FIGURES / "roi_effects.svg",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_roi_effects.log",
    benchmark:
        f"{BENCHMARKS}figure_roi_effects.tsv",
    message:
        "Figure: mean needle-minus-swab effect per ROI with 95% CI"
    script:
        "../scripts/figure_roi_effects.py"


rule figure_reliability:
    input:
        table=rules.reliability.output.table,
    output:
        png=report(
            FIGURES / "reliability.png",
            caption="../report/reliability.rst",
            category="4. ROI effects",
        ),
        svg=FIGURES / "reliability.svg",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_reliability.log",
    benchmark:
        f"{BENCHMARKS}figure_reliability.tsv",
    message:
        "Figure: split-half reliability of every ROI estimate"
    script:
        "../scripts/figure_reliability.py"


rule figure_brain_behaviour:
    input:
        roi=rules.roi_contrasts.output.table,
        phenotype=PHENOTYPE,
        stats=rules.brain_behaviour.output.table,
    output:
        png=report(
            FIGURES / "brain_behaviour_score-{score}.png",
            caption="../report/brain_behaviour.rst",
            category="5. Brain-behaviour",
            labels={"score": "{score}"},
        ),
        svg=FIGURES / "brain_behaviour_score-{score}.svg",
    params:
        n_subjects=len(SUBJECTS),
        analysis={"dilemmas": config["analysis"]["dilemmas"]},
    wildcard_constraints:
        score="|".join(config["analysis"]["scores"]),
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_brain_behaviour/{{score}}.log",
    benchmark:
        f"{BENCHMARKS}figure_brain_behaviour/{{score}}.tsv",
    message:
        "Figure: ROI effects against {wildcards.score}, one row per ROI selection"
    script:
        "../scripts/figure_brain_behaviour.py"


rule figure_behaviour_map:
    input:
        r=lambda wildcards: BEHAVIOUR_MAPS[wildcards.score]["r"],
        logp_fwe=lambda wildcards: BEHAVIOUR_MAPS[wildcards.score]["logp_fwe"],
        summary=lambda wildcards: BEHAVIOUR_MAPS[wildcards.score]["summary"],
        centres=rules.roi_definitions.output.centres,
    output:
        png=report(
            FIGURES / "behaviour_map_score-{score}.png",
            caption="../report/behaviour_map.rst",
            category="5. Brain-behaviour",
            labels={"score": "{score}", "figure": "whole-brain map"},
        ),
    params:
        n_subjects=len(SUBJECTS),
    wildcard_constraints:
        score="|".join(config["analysis"]["scores"]),
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}figure_behaviour_map/{{score}}.log",
    benchmark:
        f"{BENCHMARKS}figure_behaviour_map/{{score}}.tsv",
    message:
        "Figure: whole-brain r map of needle - swab on {wildcards.score}, FWE-thresholded"
    script:
        "../scripts/figure_behaviour_map.py"


#: Every figure, for `rule all`.
FIGURE_FILES = [
    rules.figure_task_timeline.output,
    rules.figure_design_matrix.output,
    rules.figure_roi_timeseries.output,
    rules.figure_rois.output,
    rules.figure_group_map.output,
    rules.figure_roi_effects.output,
    rules.figure_reliability.output,
    expand(rules.figure_brain_behaviour.output, score=config["analysis"]["scores"]),
    expand(rules.figure_behaviour_map.output, score=config["analysis"]["scores"]),
]
