"""Every job states what it needs, so a cluster executor can ask for it."""

from __future__ import annotations

import re

import yaml
from conftest import REPO


def _rules() -> dict[str, str]:
    rules = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule )", path.read_text()):
            if block.startswith("rule ") and "    script:" in block:
                rules[block.split(":")[0].removeprefix("rule ")] = block
    return rules


def test_every_rule_declares_memory_and_runtime():
    """Rule-level values survive a --default-resources on the command line; profile ones do not."""
    rules = _rules()
    assert len(rules) > 25
    for name, block in rules.items():
        resources = re.search(r"    resources:\n((?:        .*\n)+)", block)
        assert resources, f"rule {name} declares no resources"
        assert "mem_mb=" in resources.group(1), f"rule {name} declares no mem_mb"
        assert "runtime=" in resources.group(1), f"rule {name} declares no runtime"


def test_every_rule_writes_its_benchmark():
    """The README promises every job's time and peak memory in benchmarks/<rule>..."""
    rules = _rules()
    for name, block in rules.items():
        # BENCHMARKS and LOGS are the study's folders (benchmarks/ and logs/ by default)
        benchmark = re.search(r"    benchmark:\n        f\"\{BENCHMARKS\}([^\"]+)\"", block)
        assert benchmark, f"rule {name} writes no benchmark into BENCHMARKS"
        path = benchmark.group(1)
        assert path.startswith(name) and path.endswith(".tsv"), (name, path)
        log = re.search(r"    log:\n        f\"\{LOGS\}([^\"]+)\"", block)
        assert log, f"rule {name} writes no log"
        # one benchmark file per job: the same wildcards as the log
        wildcards = set(re.findall(r"\{(\w+)", path))
        assert wildcards == set(re.findall(r"\{(\w+)", log.group(1))), (name, path, log.group(1))


def test_slurm_profile_runs_on_a_default_installation():
    """No partition or account forced: a default Slurm has no 'normal' partition, no accounts."""
    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert "slurm_partition" not in profile["default-resources"]
    assert "slurm_account" not in profile["default-resources"]
    assert profile["slurm-logdir"] == "logs/slurm"


def test_no_rule_gives_a_directive_twice():
    """Snakemake keeps one of two ``params:`` blocks silently (a merge once left two)."""
    for name, block in _rules().items():
        for directive in (
            "input",
            "output",
            "params",
            "resources",
            "log",
            "benchmark",
            "message",
            "threads",
            "wildcard_constraints",
        ):
            count = len(re.findall(rf"(?m)^    {directive}:", block))
            assert count <= 1, f"rule {name} gives '{directive}:' {count} times"
