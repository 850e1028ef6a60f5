# Brain-behaviour: ROI effect vs. moral dilemma scores.


rule brain_behaviour:
    input:
        roi=rules.roi_contrasts.output.table,
        phenotype=PHENOTYPE,
    output:
        table=RESULTS / "stats" / "brain_behaviour.tsv",
        json=RESULTS / "stats" / "brain_behaviour.json",
    params:
        analysis={
            key: config["analysis"][key]
            for key in ("scores", "n_permutations_stats", "n_bootstrap", "alpha", "dilemmas")
        },
        seed=config["seed"],
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}brain_behaviour.log",
    benchmark:
        f"{BENCHMARKS}brain_behaviour.tsv",
    message:
        "Correlating ROI effects with {scores}".format(scores=", ".join(config["analysis"]["scores"]))
    script:
        "../scripts/brain_behaviour.py"
