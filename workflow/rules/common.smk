# Shared helpers: config validation, subject list, paths.
import sys
from pathlib import Path

from snakemake.utils import min_version, update_config, validate

from empathy_fmri.io.bids import STATISTICS, design_matrix_path, list_subjects, statmap_path
from empathy_fmri.io.errors import InputFileError
from empathy_fmri.io.errors import LayoutError
from empathy_fmri.io.stale_subjects import remove_stale_subjects
from empathy_fmri.io.layout import FMRIPREP_FOLDER, SIMULATED_SPACE, RunFiles, brain_mask_path, find_runs, find_spaces, fmriprep_confounds_path, preproc_bold_path, raw_bold_path, raw_events_path, run_key
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
#: (measured peaks: simulate 1.25 / 2.27 GB, first level 1.21 / 2.69 GB at 3 / 2 mm).
GRID_SCALE = (3 / config["anatomy"]["voxel_size_mm"]) ** 3
# Every rule declares mem_mb and runtime (minutes; a cluster executor asks
# for them, a local run ignores runtime): the benchmarks/ peaks of the default
# study with room to spare (per-subject jobs: at most 101 s and 1.2 GB at 3 mm
# with two runs on a loaded 2-core machine; each rule's runtime is 10-30 times
# its measured time).

#: This study's folder; another results_dir also holds the study's logs and
#: benchmarks, so that two studies side by side never share a file.
RESULTS = Path(config["results_dir"])
LOGS = "logs/" if RESULTS == Path("results") else f"{RESULTS}/logs/"
BENCHMARKS = "benchmarks/" if RESULTS == Path("results") else f"{RESULTS}/benchmarks/"
#: Where the simulator writes its BIDS dataset.
SIMULATED_BIDS = RESULTS / "bids"
SIMULATED_DERIVATIVES = SIMULATED_BIDS / FMRIPREP_FOLDER
#: True unless analysis.bids_dir points the analysis at another dataset; then
#: nothing is simulated and nothing is graded against a truth.
SIMULATED = not config["analysis"]["bids_dir"]
#: The BIDS dataset the analysis reads.
BIDS = SIMULATED_BIDS if SIMULATED else Path(config["analysis"]["bids_dir"])
PHENOTYPE = BIDS / config["analysis"]["phenotype"]
TRUTH = RESULTS / "truth"
GLM = RESULTS / "derivatives" / "glm"
EXCLUDED = dict(config["analysis"]["participants"]["exclude"])

if SIMULATED:
    #: Every simulated participant (the dataset); SUBJECTS are those analysed.
    SIMULATED_SUBJECTS = [participant_id(i, config["n_subjects"]) for i in range(config["n_subjects"])]
    _listed = SIMULATED_SUBJECTS
    DERIVATIVES = SIMULATED_DERIVATIVES
    SPACE = config["analysis"]["space"] or SIMULATED_SPACE
    if SPACE != SIMULATED_SPACE:
        sys.exit(f"Config error: 'analysis.space' is {SPACE!r}, but the simulated dataset is in "
                 f"{SIMULATED_SPACE!r} (nilearn's template); set it to null or {SIMULATED_SPACE}.")
else:
    SIMULATED_SUBJECTS = []
    try:
        _listed = list_subjects(BIDS)
    except (ValueError, InputFileError) as err:
        sys.exit(f"Config error: 'analysis.bids_dir': {err}")
    _derivatives = Path(config["analysis"]["derivatives"])
    DERIVATIVES = _derivatives if _derivatives.is_absolute() else BIDS / _derivatives
    SPACE = config["analysis"]["space"]
    if SPACE is None:
        _spaces = find_spaces(DERIVATIVES, TASK) if DERIVATIVES.is_dir() else []
        if len(_spaces) != 1:
            sys.exit(
                f"Config error: 'analysis.space' is null, so the preprocessed BOLD of task "
                f"'{TASK}' in '{DERIVATIVES}' ('analysis.derivatives') must be in exactly one "
                f"space, but it is in {_spaces or 'none'}; "
                + ("set 'analysis.space' to one of them." if _spaces else
                   "run fMRIPrep first: raw BOLD is not analysed unpreprocessed.")
            )
        SPACE = _spaces[0]

_unknown = sorted(set(EXCLUDED) - set(_listed))
if _unknown:
    sys.exit(f"Config error: 'analysis.participants.exclude' names {_unknown}, who are not in "
             f"the dataset (it has {', '.join(_listed[:5])}{', ...' if len(_listed) > 5 else ''}).")
SUBJECTS = [s for s in _listed if s not in EXCLUDED]
if not SUBJECTS:
    sys.exit("Config error: 'analysis.participants.exclude' leaves no participant to analyse.")
#: Where the analysis jobs find a subject's runs (the query layer's arguments).
SOURCE = {"bids_dir": str(BIDS), "derivatives": str(DERIVATIVES), "task": TASK, "space": SPACE}


def _planned_runs(subject):
    """The runs the simulator writes for a subject, named as the query layer finds them."""
    keys = [run_key(subject, TASK, run) for run in RUNS]
    return [
        RunFiles(key, preproc_bold_path(DERIVATIVES, key, SPACE), raw_events_path(BIDS, key),
                 fmriprep_confounds_path(DERIVATIVES, key), brain_mask_path(DERIVATIVES, key, SPACE))
        for key in keys
    ]


if SIMULATED:
    SUBJECT_RUNS = {s: _planned_runs(s) for s in SIMULATED_SUBJECTS}
else:
    try:
        SUBJECT_RUNS = {s: find_runs(BIDS, DERIVATIVES, s, TASK, SPACE) for s in SUBJECTS}
    except LayoutError as err:
        sys.exit(f"Data error: {err}.\nExclude the participant ('analysis.participants.exclude', "
                 "with the reason) or fix the dataset.")
    if not PHENOTYPE.is_file():
        # Snakemake would say only that an input of roi_definitions is missing
        sys.exit(
            f"Config error: 'analysis.phenotype' is {config['analysis']['phenotype']!r}, so the "
            f"behavioural scores are read from '{PHENOTYPE}', which does not exist; give the "
            "path (relative to 'analysis.bids_dir', or absolute) of a table with participant_id "
            f"and the columns of 'analysis.scores' ({', '.join(config['analysis']['scores'])})."
        )

_impossible = statistical_problems(len(SUBJECTS), config["analysis"])
if _impossible:
    sys.exit("Config error: " + "; ".join(_impossible) + ".")
#: Gaps the results will have by construction; printed before any job.
STATISTICAL_WARNINGS = statistical_warnings(len(SUBJECTS), config["analysis"])
for _warning in STATISTICAL_WARNINGS:
    print(f"empathy-fmri warning: {_warning}.", file=sys.stderr)
# named here, in results/analysis/participants.tsv and in results/warnings.md
for _subject, _reason in EXCLUDED.items():
    print(f"empathy-fmri warning: {_subject} is left out of the analysis "
          f"('analysis.participants.exclude': {_reason}).", file=sys.stderr)


wildcard_constraints:
    subject="sub-[a-zA-Z0-9]+",


def subject_index(wildcards):
    """Zero-based index of a simulated subject's label."""
    return SIMULATED_SUBJECTS.index(wildcards.subject)


def run_files(kind, subject=None):
    """One path per run of a subject (``kind``: bold, events, confounds, mask).

    With ``subject`` None, an input function of the ``{subject}`` wildcard.
    """
    if subject is None:
        return lambda wildcards: run_files(kind, wildcards.subject)
    paths = [getattr(run, kind) for run in SUBJECT_RUNS[subject]]
    return [str(p) for p in paths if p is not None]


def confound_files(subject=None):
    """The confounds files of a subject's runs, if the confound strategy uses any."""
    if not config["analysis"]["confounds"]["strategy"]:
        return []
    return run_files("confounds", subject)


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
