# Shared helpers: config validation, subject list, paths.
import sys
from pathlib import Path

from snakemake.utils import min_version, update_config, validate

from empathy_fmri.io.bids import CONFOUNDS_PIPELINE, STATISTICS, bold_path, confounds_path, design_matrix_path, events_path, list_subjects, statmap_path
from empathy_fmri.task.conditions import CONTRASTS
from empathy_fmri.config import ConfigError, config_hash, default_schema_path
from empathy_fmri.config.loading import duplicate_key_problems
from empathy_fmri.config.checks import statistical_problems, statistical_warnings
from empathy_fmri.config.schema import load_schema, typed_command_line_values
from empathy_fmri.pipeline.study_config import check_study_config
from empathy_fmri.simulation.population import participant_id

min_version("8.20")

#: The JSON Schema shipped inside the empathy_fmri package.
SCHEMA = default_schema_path()
# `--config noise='{tsnr: 50}'` reaches the workflow as strings; give them the
# schema's types (only the command-line values: a config file is taken as written).
update_config(
    config, typed_command_line_values(workflow.config_settings.overwrite_config or {}, load_schema())
)
_repeated = duplicate_key_problems(workflow.configfiles)
if _repeated:
    sys.exit("Config error: " + "; ".join(_repeated) + ".")
try:
    _checked = check_study_config(config)
except ConfigError as err:
    sys.exit(f"Config error: {err}.\nFix config.yaml (or the file given with --configfile); "
             "every key is documented there and in the package's config/config.schema.yaml.")
config.clear()
config.update(_checked)
validate(config, schema=str(SCHEMA))

CONFIG_HASH = config_hash(config)


def sections(*keys):
    """The config sections a job uses, passed whole as one of its params.

    Snakemake re-runs a job when its params change, so a rule that passes
    exactly the sections its job reads re-runs exactly when one of them is
    edited; the job's script turns them into the typed sections of
    empathy_fmri.config (e.g. SimulationConfig.from_dict).
    """
    return {key: config[key] for key in keys}


#: What one subject's simulation depends on (not n_subjects: adding subjects
#: leaves the others unchanged).
SIMULATION = sections(
    "seed", "task_name", "anatomy", "regions", "design", "signal", "noise", "behaviour"
)
TASK = config["task_name"]
RUNS = list(range(1, config["design"]["n_runs"] + 1))
#: The a-priori analysis ROIs, and the simulated regions (the truth; analysis never reads it).
ROIS = list(config["analysis"]["rois"])
REGIONS = list(config["regions"]["centres"])

#: Voxels relative to the 3 mm grid: memory of the per-subject jobs scales with it
#: (measured peaks: simulate 0.59 / 1.14 GB, first level 1.21 / 2.69 GB at 3 / 2 mm).
GRID_SCALE = (3 / config["anatomy"]["voxel_size_mm"]) ** 3
# Every rule declares mem_mb and runtime (minutes; a cluster executor asks
# for them, a local run ignores runtime): the benchmarks/ peaks of the default
# study with room to spare (per-subject jobs: at most 101 s and 1.2 GB at 3 mm
# with two runs on a loaded 2-core machine; each rule's runtime is 10-30 times
# its measured time).

RESULTS = Path("results")
#: Where the simulator writes its BIDS dataset.
SIMULATED_BIDS = RESULTS / "bids"
#: True unless analysis.bids_dir points the analysis at another dataset; then
#: nothing is simulated and nothing is graded against a truth.
SIMULATED = not config["analysis"]["bids_dir"]
#: The BIDS dataset the analysis reads.
BIDS = SIMULATED_BIDS if SIMULATED else Path(config["analysis"]["bids_dir"])
PHENOTYPE = BIDS / "phenotype" / "moral_dilemmas.tsv"
TRUTH = RESULTS / "truth"
GLM = RESULTS / "derivatives" / "glm"

if SIMULATED:
    SUBJECTS = [participant_id(i, config["n_subjects"]) for i in range(config["n_subjects"])]
else:
    try:
        SUBJECTS = list_subjects(BIDS)
    except ValueError as err:
        sys.exit(f"Config error: 'analysis.bids_dir': {err}")

_impossible = statistical_problems(len(SUBJECTS), config["analysis"])
if _impossible:
    sys.exit("Config error: " + "; ".join(_impossible) + ".")
#: Gaps the results will have by construction; printed before any job.
STATISTICAL_WARNINGS = statistical_warnings(len(SUBJECTS), config["analysis"])
for _warning in STATISTICAL_WARNINGS:
    print(f"empathy-fmri warning: {_warning}.", file=sys.stderr)


wildcard_constraints:
    subject="sub-[a-zA-Z0-9]+",


def subject_index(wildcards):
    """Zero-based index of a subject label."""
    return SUBJECTS.index(wildcards.subject)


def run_files(path_function, subject="{subject}", root=None):
    """One path per run, from a path function of empathy_fmri.io.bids."""
    root = BIDS if root is None else root
    return [str(path_function(root, subject, TASK, run)) for run in RUNS]


def subject_statmaps(subject="{subject}"):
    """statmaps[contrast][stat] of one subject's first level."""
    return {
        contrast: {stat: str(statmap_path(GLM, subject, TASK, contrast, stat)) for stat in STATISTICS}
        for contrast in CONTRASTS
    }


def flat(nested):
    """All paths of a nested dict, in order."""
    return [path for inner in nested.values() for path in inner.values()]


def group_statmap(stat, desc=None):
    return str(statmap_path(GLM, None, TASK, "needleMinusSwab", stat, desc))
