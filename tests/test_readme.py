"""Every `snakemake` command that README.md shows works as written (as a dry run), so the README
cannot drift from the workflow. A config file a command names (``--configfile mine.yaml``) is the
README's own YAML example, with small feature and label files made at the paths it names."""
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import REPO, workdir

README = (REPO / "README.md").read_text()
FENCED = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def fenced_blocks(lang=None):
    return [body for kind, body in FENCED.findall(README) if lang is None or kind == lang]


def snakemake_commands() -> list[str]:
    """`snakemake ...` command lines of the README: in code blocks (after `&&` too, comments cut off)
    and in inline code spans (spans with placeholders such as `...` or `<ds>` are not commands)."""
    found = []
    for body in fenced_blocks(""):
        for line in body.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words[:1] == ["snakemake"]:
                    found.append(shlex.join(words))
    prose = FENCED.sub("", README)
    for span in re.findall(r"`([^`]+)`", prose):
        span = " ".join(span.split())
        if span.startswith("snakemake ") and not re.search(r"\.\.\.|<|>|…", span):
            found.append(span)
    return list(dict.fromkeys(found))


COMMANDS = snakemake_commands()
SNAKEMAKE_HELP = subprocess.run([sys.executable, "-m", "snakemake", "--help"], capture_output=True, text=True).stdout


def test_the_readme_shows_its_commands():
    """The parser finds the commands it should (a guard against a README layout it cannot read)."""
    assert "snakemake --cores 2" in COMMANDS
    assert any("--configfile mine.yaml" in c for c in COMMANDS)
    assert any("--profile profiles/slurm" in c for c in COMMANDS)
    assert len(COMMANDS) >= 8, COMMANDS


def readme_config(wd: Path, name: str) -> None:
    """Write the README's YAML example as ``name`` and make the feature/label files it names."""
    (example,) = [body for body in fenced_blocks("yaml") if "datasets:" in body]
    (wd / name).write_text(example)
    rng = np.random.default_rng(0)
    for ds in yaml.safe_load(example)["datasets"].values():
        for split in ("train", "test"):
            spec = ds.get(split)
            if not spec:
                continue
            n = 60
            labels = rng.integers(0, 6, n)
            feats = (rng.standard_normal((6, ds["dim"]))[labels] + 0.1 * rng.standard_normal((n, ds["dim"])))
            path = wd / spec["features"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".npy":
                np.save(path, feats.astype(np.float32))
            else:
                feats.astype(np.float32).tofile(path)
            if spec.get("labels"):
                (wd / spec["labels"]).write_text("".join(f"{v}\n" for v in labels))


@pytest.fixture(scope="module")
def readme_workdir(tmp_path_factory):
    return workdir(tmp_path_factory.mktemp("readme"))


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works_as_a_dry_run(command, readme_workdir):
    wd = readme_workdir
    words = shlex.split(command)
    if "conda" in words and shutil.which("conda") is None:
        pytest.skip("the command uses conda environments and conda is not installed here")
    if "--configfile" in words:
        name = words[words.index("--configfile") + 1]
        if not (wd / name).exists():
            readme_config(wd, name)
    if "--report-after-run" in words:  # a dry run would write the report of jobs it did not run
        assert "--report-after-run" in SNAKEMAKE_HELP
        i = words.index("--report")
        words = [w for j, w in enumerate(words) if j not in (i, i + 1) and w != "--report-after-run"]
    proc = subprocess.run([sys.executable, "-m", *words, "--dry-run"], cwd=wd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr + proc.stdout


def test_readme_own_data_example_runs_for_real(readme_workdir):
    """The README's own-data example, run (not dry) to a training-free method's predictions."""
    wd = readme_workdir
    if not (wd / "mine.yaml").exists():
        readme_config(wd, "mine.yaml")
    (command,) = [c for c in COMMANDS if "--configfile mine.yaml" in c and "knn_cc/pred_labels.meta" in c]
    words = shlex.split(command)
    proc = subprocess.run([sys.executable, "-m", *words], cwd=wd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    labels = (wd / "results/mine/knn_cc/pred_labels.meta").read_text().split()
    assert len(labels) == 60
