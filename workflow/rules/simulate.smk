# Simulation: a BIDS dataset per config, and its hidden truth.


rule simulate_metadata:
    output:
        description=SIMULATED_BIDS / "dataset_description.json",
        bold_sidecar=SIMULATED_BIDS / f"task-{TASK}_bold.json",
        readme=SIMULATED_BIDS / "README",
        events_sidecar=SIMULATED_BIDS / f"task-{TASK}_events.json",
        derivative_description=SIMULATED_BIDS / FMRIPREP_FOLDER / "dataset_description.json",
        derivative_bidsignore=SIMULATED_BIDS / FMRIPREP_FOLDER / ".bidsignore",
    params:
        bids=SIMULATED_BIDS,
        # the description carries the hash of every simulation section
        simulation=SIMULATION,
        n_subjects=config["n_subjects"],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}simulate_metadata.log",
    benchmark:
        f"{BENCHMARKS}simulate_metadata.tsv",
    message:
        "Writing the BIDS dataset description and sidecars"
    script:
        "../scripts/simulate_metadata.py"


rule simulate_phenotype:
    output:
        participants=SIMULATED_BIDS / "participants.tsv",
        participants_sidecar=SIMULATED_BIDS / "participants.json",
        phenotype=SIMULATED_BIDS / "phenotype" / "moral_dilemmas.tsv",
        phenotype_sidecar=SIMULATED_BIDS / "phenotype" / "moral_dilemmas.json",
    params:
        bids=SIMULATED_BIDS,
        # what the people and their dilemma answers depend on: not the brain
        seed=config["seed"],
        behaviour=config["behaviour"],
        n_subjects=config["n_subjects"],
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}simulate_phenotype.log",
    benchmark:
        f"{BENCHMARKS}simulate_phenotype.tsv",
    message:
        "Writing participants.tsv and the moral dilemma scores of {n} participants".format(
            n=len(SUBJECTS)
        )
    script:
        "../scripts/simulate_phenotype.py"


rule simulate_events:
    output:
        # every simulated subject's events in one job: a job per subject was all
        # start-up (about 8 s each on 2 cores for a few small TSVs)
        events=[
            str(raw_events_path(SIMULATED_BIDS, run_key(subject, TASK, r)))
            for subject in SIMULATED_SUBJECTS
            for r in RUNS
        ],
    params:
        bids=SIMULATED_BIDS,
        # the block order depends on the design, the seed and the subject only
        seed=config["seed"],
        task=TASK,
        design=config["design"],
        n_subjects=config["n_subjects"],
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}simulate_events.log",
    benchmark:
        f"{BENCHMARKS}simulate_events.tsv",
    message:
        "Writing the events of {n} participants".format(n=len(SIMULATED_SUBJECTS))
    script:
        "../scripts/simulate_events.py"


rule simulate_subject:
    output:
        raw_bold=[str(raw_bold_path(SIMULATED_BIDS, run_key("{subject}", TASK, r))) for r in RUNS],
        bold=[str(preproc_bold_path(SIMULATED_DERIVATIVES, run_key("{subject}", TASK, r), SIMULATED_SPACE)) for r in RUNS],
        bold_sidecars=[
            str(preproc_bold_path(SIMULATED_DERIVATIVES, run_key("{subject}", TASK, r), SIMULATED_SPACE)).replace(
                ".nii.gz", ".json"
            )
            for r in RUNS
        ],
        masks=[str(brain_mask_path(SIMULATED_DERIVATIVES, run_key("{subject}", TASK, r), SIMULATED_SPACE)) for r in RUNS],
        confounds=[str(fmriprep_confounds_path(SIMULATED_DERIVATIVES, run_key("{subject}", TASK, r))) for r in RUNS],
        confounds_sidecars=[
            str(fmriprep_confounds_path(SIMULATED_DERIVATIVES, run_key("{subject}", TASK, r))).replace(
                ".tsv", ".json"
            )
            for r in RUNS
        ],
        truth=TRUTH / "{subject}" / "{subject}_truth.json",
        truth_map=TRUTH / "{subject}" / "{subject}_desc-needleMinusSwab_psc.nii.gz",
    params:
        index=subject_index,
        bids=SIMULATED_BIDS,
        truth=TRUTH,
        simulation=SIMULATION,
        n_subjects=lambda wildcards: config["n_subjects"],
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}simulate_subject/{{subject}}.log",
    benchmark:
        f"{BENCHMARKS}simulate_subject/{{subject}}.tsv",
    resources:
        mem_mb=int(400 + 1000 * GRID_SCALE),
        runtime=int(10 + 5 * GRID_SCALE * len(RUNS)),
    message:
        "Simulating {wildcards.subject}: BOLD and motion of every run"
    script:
        "../scripts/simulate_subject.py"


rule simulate_truth:
    output:
        participants=TRUTH / "participants_truth.tsv",
        correlations=TRUTH / "population_correlations.tsv",
        noise=TRUTH / "noise_parameters.json",
        mean_map=TRUTH / "desc-needleMinusSwab_mean_psc.nii.gz",
        masks=expand(TRUTH / "region-{region}_mask.nii.gz", region=REGIONS),
        visual_mask=TRUTH / "visual_mask.nii.gz",
    params:
        truth=TRUTH,
        simulation=SIMULATION,
        n_subjects=config["n_subjects"],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}simulate_truth.log",
    benchmark:
        f"{BENCHMARKS}simulate_truth.tsv",
    message:
        "Writing the ground truth (true amplitudes, ROI masks, population correlations)"
    script:
        "../scripts/simulate_truth.py"
