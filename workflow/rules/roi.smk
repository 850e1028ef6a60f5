# ROI extraction: a-priori spheres, and spheres on the group peak (circular).


rule roi_contrasts:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        group_z=rules.group_level.output.z,
    output:
        table=RESULTS / "roi" / "roi_contrasts.tsv",
        centres=RESULTS / "roi" / "roi_centres.tsv",
    params:
        subjects=SUBJECTS,
        anatomy=config["anatomy"],
        analysis={"circular_search_radius_mm": config["analysis"]["circular_search_radius_mm"]},
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        "logs/roi_contrasts.log",
    benchmark:
        "benchmarks/roi_contrasts.tsv",
    message:
        "Mean needle-minus-swab effect in {n} ROIs, independent and circular".format(n=len(ROIS))
    script:
        "../scripts/roi_contrasts.py"
