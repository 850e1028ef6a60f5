# Group level: one-sample test of needle - swab, FDR and permutation FWE.


rule group_level:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
    output:
        z=group_statmap("z"),
        effect=group_statmap("effect"),
        z_fdr=group_statmap("z", "fdr"),
        logp_fwe=group_statmap("logp", "fwe"),
        z_fwe=group_statmap("z", "fwe"),
        clusters=GLM / "group" / f"task-{TASK}_contrast-needleMinusSwab_desc-fwe_clusters.tsv",
        summary=GLM / "group" / f"task-{TASK}_contrast-needleMinusSwab_summary.json",
    params:
        analysis={
            key: config["analysis"][key]
            for key in ("alpha", "n_permutations", "cluster_min_voxels")
        },
        rois=config["analysis"]["rois"],
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}group_level.log",
    benchmark:
        f"{BENCHMARKS}group_level.tsv",
    message:
        "Group needle-minus-swab map ({n} sign-flip permutations for FWE)".format(
            n=config["analysis"]["n_permutations"]
        )
    script:
        "../scripts/group_level.py"
