"""Helpers shared by the test modules (imported by them; fixtures stay in conftest.py): a copy of the
workflow to run Snakemake in, tiny configs, and small archives in the learn-to-cluster layout."""
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = {"datasets": {"demo": {"synthetic": {"train_identities": 25, "test_identities": 25}}}, "knn": {"k": 10},
        "method": "knn_cc", "methods": {"knn_cc": {"threshold": 0.5}}}


def workdir(tmp_path: Path) -> Path:
    """A copy of the workflow (and the package, whose files are rule inputs) to run in."""
    for name in ("Snakefile", "config.yaml", "workflow", "profiles", "envs", "ltc"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def snakemake(wd: Path, *args, config=None, check=True):
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    if config is not None:
        (wd / "test.yaml").write_text(yaml.safe_dump(config))
        cmd += ["--configfile", "test.yaml"]
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True)
    if check and proc.returncode:
        raise AssertionError(f"snakemake failed:\n{proc.stderr[-4000:]}")
    return proc


def planned_jobs(wd: Path, config, *targets) -> dict:
    """Rule -> job count that a dry run plans ({} when nothing is to be done)."""
    out = snakemake(wd, "-n", *targets, config=config).stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def with_(config, **changes):
    out = json.loads(json.dumps(config))
    for path, value in changes.items():
        node = out
        *keys, last = path.split("__")
        for key in keys:
            node = node.setdefault(key, {})
        node[last] = value
    return out


TINY_GCNV = with_(TINY, method="gcnv", methods__gcnv__nhid=16, methods__gcnv__train__max_epochs=3)


def custom(tmp_path, feats, labels, dim=8):
    np.asarray(feats, np.float32).tofile(tmp_path / "mine.bin")
    (tmp_path / "mine.meta").write_text("\n".join(map(str, labels)) + "\n")
    return {"knn": {"k": 5}, "method": "knn_cc", "methods": {"knn_cc": {"threshold": 0.5}}, "datasets": {"mine": {
        "dim": dim, "test": {"features": str(tmp_path / "mine.bin"), "labels": str(tmp_path / "mine.meta")}}}}


def make_tar(members: dict, mode="w:gz", links=()) -> bytes:
    """A tar archive (bytes) of name -> content; ``links`` adds (name, target, kind) link members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def dataset_archive(names=("toy_train", "toy_test"), dim=8, n=30, seed=0, prefix="data/") -> tuple[bytes, dict]:
    """An archive in the learn-to-cluster layout (under ``data/`` like the original) and its contents."""
    rng = np.random.default_rng(seed)
    members = {}
    for name in names:
        feats = rng.standard_normal((n, dim)).astype(np.float32)
        labels = rng.integers(0, 5, n)
        members[f"{prefix}features/{name}.bin"] = feats.tobytes()
        members[f"{prefix}labels/{name}.meta"] = ("\n".join(map(str, labels)) + "\n").encode()
    return make_tar(members), members


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
