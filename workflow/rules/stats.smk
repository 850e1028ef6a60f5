# Brain-behaviour: ROI effect vs. moral dilemma scores.


rule brain_behaviour:
    input:
        roi=rules.roi_contrasts.output.table,
        phenotype=PHENOTYPE,
    output:
        table=RESULTS / "stats" / "brain_behaviour.tsv",
        json=RESULTS / "stats" / "brain_behaviour.json",
    params:
        scores=config["analysis"]["scores"],
        analysis=config["analysis"],
        seed=config["seed"],
        config_hash=CONFIG_HASH,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        "logs/brain_behaviour.log",
    benchmark:
        "benchmarks/brain_behaviour.tsv",
    message:
        "Correlating ROI effects with {scores}".format(scores=", ".join(config["analysis"]["scores"]))
    script:
        "../scripts/brain_behaviour.py"
