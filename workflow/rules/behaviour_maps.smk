# Whole-brain brain-behaviour maps: the needle-minus-swab effect maps regressed
# on each behavioural score (intercept + demeaned score), as the UCLA study did.
# One job per score; the wildcard is the score's BIDS label (camelCase).
from empathy_fmri.io.bids import bids_label

#: analysis.scores by their BIDS label, e.g. willingnessToHarm -> willingness_to_harm.
SCORE_BY_LABEL = {bids_label(score): score for score in config["analysis"]["scores"]}
#: A-priori ROI centres (MNI mm) that name the clusters; they move to
#: config["analysis"]["rois"] in another branch: change this line only.
ANALYSIS_ROI_CENTRES = config["anatomy"]["rois"]


def behaviour_statmap(stat, desc=None):
    return str(statmap_path(GLM, None, TASK, "needleMinusSwab", stat, desc, score="{score}"))


def behaviour_group_file(suffix):
    return str(GLM / "group" / f"task-{TASK}_contrast-needleMinusSwab_score-{{score}}_{suffix}")


rule behaviour_map:
    input:
        effects=[subject_statmaps(s)["needleMinusSwab"]["effect"] for s in SUBJECTS],
        phenotype=PHENOTYPE,
    output:
        z=behaviour_statmap("z"),
        r=behaviour_statmap("r"),
        z_fdr=behaviour_statmap("z", "fdr"),
        logp_fwe=behaviour_statmap("logp", "fwe"),
        clusters=behaviour_group_file("desc-fwe_clusters.tsv"),
        summary=behaviour_group_file("summary.json"),
    wildcard_constraints:
        score="|".join(SCORE_BY_LABEL),
    params:
        score=lambda wildcards: SCORE_BY_LABEL[wildcards.score],
        subjects=SUBJECTS,
        analysis={
            key: config["analysis"][key]
            for key in ("alpha", "n_permutations", "cluster_min_voxels")
        },
        rois=ANALYSIS_ROI_CENTRES,
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=2000,
    conda:
        "../envs/empathy-fmri.yaml"
    log:
        "logs/behaviour_map/{score}.log",
    benchmark:
        "benchmarks/behaviour_map/{score}.tsv",
    message:
        "Whole-brain regression of needle - swab on {{params.score}} "
        "({n} permutations for FWE)".format(n=config["analysis"]["n_permutations"])
    script:
        "../scripts/behaviour_maps.py"


def behaviour_map_output(key):
    """Input function: file `key` of rule behaviour_map for the score named by wildcard `score`."""
    return lambda wildcards: str(getattr(rules.behaviour_map.output, key)).format(
        score=bids_label(wildcards.score)
    )


#: Every score's maps, for `rule all`.
BEHAVIOUR_MAP_FILES = expand(rules.behaviour_map.output, score=list(SCORE_BY_LABEL))
