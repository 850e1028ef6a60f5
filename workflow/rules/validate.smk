# Validation: this run graded against its ground truth. These rules (with the
# simulate_* rules) are the only ones that read results/truth/.

VALIDATION = RESULTS / "validation"


rule validate_amplitudes:
    input:
        roi=rules.roi_contrasts.output.table,
        truth=rules.simulate_truth.output.participants,
        measurement=rules.power_measurement.output.table,
    output:
        table=VALIDATION / "amplitude_recovery.tsv",
        figure=report(
            VALIDATION / "amplitude_recovery.png",
            caption="../report/validation_amplitudes.rst",
            category="6. Validation",
        ),
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_amplitudes.log",
    benchmark:
        f"{BENCHMARKS}validate_amplitudes.tsv",
    message:
        "Validation: per-subject ROI amplitudes against the true ones"
    script:
        "../scripts/validate_amplitudes.py"


rule validate_reliability:
    input:
        reliability=rules.reliability.output.table,
        roi=rules.roi_contrasts.output.table,
        truth=rules.simulate_truth.output.participants,
        measurement=rules.power_measurement.output.table,
    output:
        table=VALIDATION / "reliability.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_reliability.log",
    benchmark:
        f"{BENCHMARKS}validate_reliability.tsv",
    message:
        "Validation: split-half reliability against the true reliability of each ROI estimate"
    script:
        "../scripts/validate_reliability.py"


rule validate_noise:
    output:
        table=VALIDATION / "noise_components.tsv",
        figure=report(
            VALIDATION / "noise_components.png",
            caption="../report/validation_noise.rst",
            category="6. Validation",
        ),
    params:
        simulation=SIMULATION,
        analysis=sections("analysis")["analysis"],
        n_subjects=config["n_subjects"],
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_noise.log",
    benchmark:
        f"{BENCHMARKS}validate_noise.tsv",
    resources:
        mem_mb=int(500 + 600 * GRID_SCALE),
        runtime=int(5 + 5 * GRID_SCALE),
    message:
        "Validation: what the first level removes of each noise component"
    script:
        "../scripts/validate_noise.py"


rule validate_roi_placement:
    input:
        centres=rules.roi_definitions.output.centres,
        masks=rules.simulate_truth.output.masks,
        mean_map=rules.simulate_truth.output.mean_map,
    output:
        table=VALIDATION / "roi_placement.tsv",
    params:
        regions=REGIONS,
        centres=config["regions"]["centres"],
        grey_matter_threshold=config["anatomy"]["grey_matter_threshold"],
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_roi_placement.log",
    benchmark:
        f"{BENCHMARKS}validate_roi_placement.tsv",
    message:
        "Validation: distance and overlap (Dice) of every ROI with its simulated region"
    script:
        "../scripts/validate_roi_placement.py"


rule validate_maps:
    input:
        fdr=rules.group_level.output.z_fdr,
        fwe=rules.group_level.output.z_fwe,
        masks=rules.simulate_truth.output.masks,
        mean_map=rules.simulate_truth.output.mean_map,
    output:
        table=VALIDATION / "map_accuracy.tsv",
        figure=report(
            VALIDATION / "map_accuracy.png",
            caption="../report/validation_maps.rst",
            category="6. Validation",
        ),
    params:
        regions=REGIONS,
        near_margin_mm=config["validation"]["near_margin_mm"],
    resources:
        mem_mb=1500,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_maps.log",
    benchmark:
        f"{BENCHMARKS}validate_maps.tsv",
    message:
        "Validation: FDR and FWE group maps against the true activation"
    script:
        "../scripts/validate_maps.py"


rule validate_correlations:
    input:
        stats=rules.brain_behaviour.output.table,
        population=rules.simulate_truth.output.correlations,
        power=rules.power_monte_carlo.output.table,
    output:
        table=VALIDATION / "correlation_recovery.tsv",
        figure=report(
            VALIDATION / "correlation_recovery.png",
            caption="../report/validation_correlations.rst",
            category="6. Validation",
        ),
    params:
        n_subjects=config["n_subjects"],
        alpha=config["analysis"]["alpha"],
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_correlations.log",
    benchmark:
        f"{BENCHMARKS}validate_correlations.tsv",
    message:
        "Validation: brain-behaviour r against the population and attenuated r"
    script:
        "../scripts/validate_correlations.py"


rule validate_figure_selections:
    input:
        stats=rules.brain_behaviour.output.table,
        recovery=rules.validate_correlations.output.table,
    output:
        png=report(
            VALIDATION / "selections.png",
            caption="../report/selections.rst",
            category="6. Validation",
        ),
    params:
        rois=ROIS,
        scores=config["analysis"]["scores"],
        n_subjects=len(SUBJECTS),
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_figure_selections.log",
    benchmark:
        f"{BENCHMARKS}validate_figure_selections.tsv",
    message:
        "Figure: brain-behaviour r under each ROI selection against the truth"
    script:
        "../scripts/figure_selections.py"


rule validate_summary:
    input:
        amplitudes=rules.validate_amplitudes.output.table,
        maps=rules.validate_maps.output.table,
        correlations=rules.validate_correlations.output.table,
        noise=rules.validate_noise.output.table,
        # conclusion.smk is included after this file; its rule makes the bottom line
        conclusion=RESULTS / "conclusion.md",
    output:
        summary=report(
            VALIDATION / "summary.md",
            caption="../report/validation_summary.rst",
            category="6. Validation",
        ),
    params:
        n_subjects=config["n_subjects"],
        alpha=config["analysis"]["alpha"],
        near_margin_mm=config["validation"]["near_margin_mm"],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}validate_summary.log",
    benchmark:
        f"{BENCHMARKS}validate_summary.tsv",
    message:
        "Validation: plain-language summary in {output.summary}"
    script:
        "../scripts/validate_summary.py"
