# Whole-brain brain-behaviour maps: the needle-minus-swab effect maps regressed
# on each behavioural score (intercept + demeaned score), as the UCLA study did.
# One job per score; the wildcard is the score's BIDS label (camelCase).
from empathy_fmri.io.bids import bids_label

#: analysis.scores by their BIDS label, e.g. willingnessToHarm -> willingness_to_harm.
SCORE_BY_LABEL = {bids_label(score): score for score in config["analysis"]["scores"]}
#: A-priori ROI centres (MNI mm) that name the clusters; they move to
#: config["analysis"]["rois"] in another branch: change this line only.
ANALYSIS_ROI_CENTRES = config["analysis"]["rois"]
#: Start of the score's group file names; {score} is the label.
BEHAVIOUR_STEM = GLM / "group" / f"task-{TASK}_contrast-needleMinusSwab_score-{{score}}"


rule behaviour_map:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        phenotype=PHENOTYPE,
    output:
        z=statmap_path(GLM, None, TASK, "needleMinusSwab", "z", score="{score}"),
        r=statmap_path(GLM, None, TASK, "needleMinusSwab", "r", score="{score}"),
        z_fdr=statmap_path(GLM, None, TASK, "needleMinusSwab", "z", "fdr", score="{score}"),
        logp_fwe=statmap_path(GLM, None, TASK, "needleMinusSwab", "logp", "fwe", score="{score}"),
        clusters=f"{BEHAVIOUR_STEM}_desc-fwe_clusters.tsv",
        summary=f"{BEHAVIOUR_STEM}_summary.json",
    wildcard_constraints:
        score="|".join(SCORE_BY_LABEL),
    params:
        score=lambda wildcards: SCORE_BY_LABEL[wildcards.score],
        subjects=SUBJECTS,
        analysis={
            key: config["analysis"][key]
            for key in ("alpha", "n_permutations", "cluster_min_voxels", "dilemmas")
        },
        rois=ANALYSIS_ROI_CENTRES,
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        f"{LOGS}behaviour_map/{{score}}.log",
    benchmark:
        f"{BENCHMARKS}behaviour_map/{{score}}.tsv",
    message:
        "Whole-brain regression of needle - swab on {{params.score}} "
        "({n} permutations for FWE)".format(n=config["analysis"]["n_permutations"])
    script:
        "../scripts/behaviour_maps.py"


#: Each score's files of rule behaviour_map, by the score's config name, e.g.
#: BEHAVIOUR_MAPS["willingness_to_harm"]["r"].
BEHAVIOUR_MAPS = {
    score: {key: str(path).format(score=label) for key, path in rules.behaviour_map.output.items()}
    for label, score in SCORE_BY_LABEL.items()
}
#: Every score's maps, for `rule all`.
BEHAVIOUR_MAP_FILES = [path for files in BEHAVIOUR_MAPS.values() for path in files.values()]
