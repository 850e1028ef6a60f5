# Power: how often a study like this one detects each brain-behaviour
# correlation, how far its r scatters and how much significant studies
# overstate it. A fast summary-level Monte Carlo, calibrated on this run's
# first level; `snakemake --cores 4 replicates` checks it against complete
# simulated studies (not part of the default run: minutes, not seconds).
#
# Two rules can write power.tsv: power_monte_carlo draws people from the
# simulation's population model (the truth), power_pilot_monte_carlo from
# what the analysed dataset itself says about its measures' reliability, at
# the true correlations of power.pilot.true_r. A simulated run uses the first,
# a run on another dataset (analysis.bids_dir) the second; power_figures draws
# whichever table it gets.

POWER = RESULTS / "power"
REPLICATES = POWER / "replicates"
REPLICATE_SETTINGS = config["power"]["replicates"]
#: Zero-padded indices of the replicate studies of each kind.
REPLICATE_INDICES = {
    "effect": [f"{i:03d}" for i in range(REPLICATE_SETTINGS["n_replicates"])],
    "null": [f"{i:03d}" for i in range(REPLICATE_SETTINGS["n_null_replicates"])],
}
REPLICATE_FILE = str(REPLICATES / "{kind}" / "rep-{index}_{suffix}")


rule power_measurement:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        variances=[subject_statmaps(s)["needleMinusSwab"]["variance"] for s in SUBJECTS],
        roi=rules.roi_contrasts.output.table,
        null=rules.roi_contrasts.output.null,
    output:
        table=POWER / "measurement_model.tsv",
    params:
        anatomy=config["anatomy"],
        regions=config["regions"],
        signal=config["signal"],
        noise=config["noise"],
        n_runs=config["design"]["n_runs"],
        analysis={
            key: config["analysis"][key]
            for key in ("rois", "roi_radius_mm", "smoothing_fwhm_mm", "roi_estimate")
        },
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_measurement.log",
    benchmark:
        f"{BENCHMARKS}power_measurement.tsv",
    message:
        "Calibrating the measurement error of the ROI means from {n} subjects' "
        "first-level variance maps".format(n=len(SUBJECTS))
    script:
        "../scripts/power_measurement.py"


rule power_monte_carlo:
    input:
        measurement=rules.power_measurement.output.table,
    output:
        table=POWER / "power.tsv",
        # what the table was made from, so that the notebooks recompute it exactly
        settings=POWER / "power_settings.json",
    params:
        seed=config["seed"],
        signal=config["signal"],
        rois=list(config["analysis"]["rois"]),
        behaviour=config["behaviour"],
        scores=config["analysis"]["scores"],
        power={key: value for key, value in config["power"].items() if key != "pilot"},
        # the participants analysed (config n_subjects, or those of analysis.bids_dir)
        n_subjects=len(SUBJECTS),
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_monte_carlo.log",
    benchmark:
        f"{BENCHMARKS}power_monte_carlo.tsv",
    message:
        "Fast Monte Carlo: {n} studies at each sample size in {sizes}".format(
            n=config["power"]["n_studies"], sizes=config["power"]["sample_sizes"]
        )
    script:
        "../scripts/power_monte_carlo.py"


rule power_pilot_measurement:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        variances=[subject_statmaps(s)["needleMinusSwab"]["variance"] for s in SUBJECTS],
        roi=rules.roi_contrasts.output.table,
        null=rules.roi_contrasts.output.null,
        phenotype=rules.brain_behaviour.input.phenotype,
    output:
        table=POWER / "pilot_measurement.tsv",
    params:
        anatomy=config["anatomy"],
        noise_fwhm_mm=config["noise"]["fwhm_mm"],
        analysis={
            key: config["analysis"][key]
            for key in (
                "rois", "roi_radius_mm", "smoothing_fwhm_mm", "roi_estimate", "scores",
                "dilemmas",
            )
        },
        # only the score reliability: a new true r must not re-run the calibration
        pilot={"score_reliability": config["power"]["pilot"]["score_reliability"]},
        seed=config["seed"],
        seed_offset=config["power"]["seed_offset"],
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_pilot_measurement.log",
    benchmark:
        f"{BENCHMARKS}power_pilot_measurement.tsv",
    message:
        "Pilot: true and error variance of the ROI amplitudes and scores of {n} "
        "subjects, without a truth".format(n=len(SUBJECTS))
    script:
        "../scripts/power_pilot_measurement.py"


rule power_pilot_monte_carlo:
    input:
        measurement=rules.power_pilot_measurement.output.table,
    output:
        table=POWER / "power.tsv",
    params:
        seed=config["seed"],
        power={
            key: config["power"][key]
            for key in ("sample_sizes", "n_studies", "alpha", "seed_offset", "pilot")
        },
        n_subjects=len(SUBJECTS),
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_pilot_monte_carlo.log",
    benchmark:
        f"{BENCHMARKS}power_pilot_monte_carlo.tsv",
    message:
        "Power from the pilot: {n} studies at each sample size in {sizes} and true r in "
        "{true_r}".format(
            n=config["power"]["n_studies"], sizes=config["power"]["sample_sizes"],
            true_r=config["power"]["pilot"]["true_r"],
        )
    script:
        "../scripts/power_pilot_monte_carlo.py"


if SIMULATED:

    ruleorder: power_monte_carlo > power_pilot_monte_carlo

else:

    ruleorder: power_pilot_monte_carlo > power_monte_carlo


rule power_figures:
    input:
        # the path, not rules.power_monte_carlo.output (that would pin the
        # rule): the ruleorder above picks the Monte Carlo that writes it
        table=POWER / "power.tsv",
    output:
        curves=report(
            POWER / "power_curves.png",
            caption="../report/power_curves.rst",
            category="7. Power",
        ),
        distribution=report(
            POWER / "r_distribution.png",
            caption="../report/power_r_distribution.rst",
            category="7. Power",
        ),
        exaggeration=report(
            POWER / "exaggeration.png",
            caption="../report/power_exaggeration.rst",
            category="7. Power",
        ),
    params:
        study_n=len(SUBJECTS),
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_figures.log",
    benchmark:
        f"{BENCHMARKS}power_figures.tsv",
    message:
        "Figures: power curves, r by sample size, exaggeration ratio"
    script:
        "../scripts/power_figures.py"


rule power_replicate:
    output:
        correlations=REPLICATES / "{kind}" / "rep-{index}_correlations.tsv",
        calibration=REPLICATES / "{kind}" / "rep-{index}_calibration.tsv",
        amplitudes=REPLICATES / "{kind}" / "rep-{index}_amplitudes.tsv",
        maps=REPLICATES / "{kind}" / "rep-{index}_maps.tsv",
        summary=REPLICATES / "{kind}" / "rep-{index}_summary.json",
    wildcard_constraints:
        kind="effect|null",
        index="[0-9]+",
    params:
        index=lambda wildcards: int(wildcards.index),
        study=config,
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_replicate/{{kind}}_rep-{{index}}.log",
    benchmark:
        f"{BENCHMARKS}power_replicate/{{kind}}_rep-{{index}}.tsv",
    message:
        "Replicate study {wildcards.kind} {wildcards.index}: simulate, first level, group, "
        "ROI and brain-behaviour statistics, in memory"
    script:
        "../scripts/power_replicate.py"


rule power_replicates_compare:
    input:
        correlations=expand(
            REPLICATE_FILE, kind="effect", index=REPLICATE_INDICES["effect"],
            suffix="correlations.tsv",
        ),
        calibration=expand(
            REPLICATE_FILE, kind="effect", index=REPLICATE_INDICES["effect"],
            suffix="calibration.tsv",
        ),
        summaries=[
            path
            for kind, indices in REPLICATE_INDICES.items()
            for path in expand(REPLICATE_FILE, kind=kind, index=indices, suffix="summary.json")
        ],
    output:
        comparison=POWER / "replicates_comparison.tsv",
        fwe=POWER / "replicates_fwe.tsv",
        figure=report(
            POWER / "replicates_r_distribution.png",
            caption="../report/power_replicates.rst",
            category="7. Power",
        ),
    params:
        study=config,
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_replicates_compare.log",
    benchmark:
        f"{BENCHMARKS}power_replicates_compare.tsv",
    message:
        "Comparing {k} replicate studies with the fast Monte Carlo; FWE error over {k0} null "
        "studies".format(
            k=REPLICATE_SETTINGS["n_replicates"], k0=REPLICATE_SETTINGS["n_null_replicates"]
        )
    script:
        "../scripts/power_replicates_compare.py"


rule power_replicates_selections:
    input:
        stats=rules.brain_behaviour.output.table,
        # validate.smk is included after this file; its rule makes this table
        recovery=RESULTS / "validation" / "correlation_recovery.tsv",
        replicates=[
            path
            for kind, indices in REPLICATE_INDICES.items()
            for path in expand(REPLICATE_FILE, kind=kind, index=indices,
                               suffix="correlations.tsv")
        ],
    output:
        png=report(
            POWER / "replicates_selections.png",
            caption="../report/selections.rst",
            category="7. Power",
        ),
    params:
        rois=ROIS,
        scores=config["analysis"]["scores"],
        n_subjects=len(SUBJECTS),
    resources:
        mem_mb=1500,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}power_replicates_selections.log",
    benchmark:
        f"{BENCHMARKS}power_replicates_selections.tsv",
    message:
        "Figure: r under each ROI selection in this study and in the replicate studies"
    script:
        "../scripts/figure_selections.py"


rule replicates:
    input:
        rules.power_replicates_compare.output,
        rules.power_replicates_selections.output,
