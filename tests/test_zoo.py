"""The model zoo (config `models`, ltc.download's zoo functions, data.smk's download_model_<entry> rules):
a fake zoo served from 127.0.0.1 (a link serving one .pth itself, a link serving an archive of two), the
single-file download's checks, `checkpoint: zoo:NAME` resolved for GCN-V and GCN-E, and the downloaded
checkpoints, written in the original project's layout, loading through the workflow's loaders."""
import hashlib
import io
import os
import re
import zipfile

import pytest
import torch

from helpers import TINY_GCNV, make_tar, planned_jobs, snakemake, with_, workdir
from ltc import DataError
from ltc.download import download, fetch_file, model_name, zoo, zoo_checkpoint, zoo_entries

DIM, NHID = 4, 6  # GCN-V: conv1.weight is 2 DIM x NHID; GCN-E reads NHID-D GCN-V features


def original_gcnv() -> dict:
    """A GCN-V checkpoint as the original project's mmcv save_checkpoint writes it (vegcn/models/gcn_v.py:
    GraphConv conv1 (weight 2D x nhid, bias), classifier Linear(nhid, nhid), PReLU(nhid), Linear(nhid, 1)),
    with its meta and optimizer entries; weights 0.01 * 0, 1, 2, ... so each is known."""
    shapes = {"conv1.weight": (2 * DIM, NHID), "conv1.bias": (NHID,), "classifier.0.weight": (NHID, NHID),
              "classifier.0.bias": (NHID,), "classifier.1.weight": (NHID,), "classifier.2.weight": (1, NHID),
              "classifier.2.bias": (1,)}
    state = {k: 0.01 * torch.arange(torch.Size(s).numel(), dtype=torch.float32).reshape(s) for k, s in shapes.items()}
    return {"meta": {"epoch": 100, "iter": 100}, "state_dict": state,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": list(range(7))}]}}


def original_gcne() -> dict:
    """A GCN-E checkpoint in the original's layout (vegcn/models/gcn_e.py, nclass 2): four GraphConvs
    NHID -> 8 -> 8 -> 4 -> 4, Linear(4, 4), PReLU(4), Linear(4, 2); no dim/nhid in its meta."""
    nhid, half = 8, 4
    convs = [(NHID, nhid), (nhid, nhid), (nhid, half), (half, half)]
    state = {}
    for i, (a, b) in enumerate(convs, 1):
        state[f"conv{i}.weight"], state[f"conv{i}.bias"] = torch.full((2 * a, b), 0.1 * i), torch.zeros(b)
    state.update({"classifier.0.weight": torch.eye(half), "classifier.0.bias": torch.zeros(half),
                  "classifier.1.weight": torch.full((half,), 0.25), "classifier.2.weight": torch.ones(2, half),
                  "classifier.2.bias": torch.tensor([0.0, 1.0])})
    return {"meta": {"mmcv_version": "0.2.10"}, "state_dict": state}


def saved(obj, legacy=False) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


GCNV_PTH = saved(original_gcnv(), legacy=True)  # the original's checkpoints predate torch 1.6's zip format
GCNE_PTH = saved(original_gcne())
PAIR = make_tar({"pretrained_models/fake_gcn_v.pth": GCNV_PTH, "pretrained_models/fake_gcn_e.pth": GCNE_PTH})


def fake_zoo(url: str) -> dict:
    return {"fake_gcnv_single": {"url": f"{url}/gcnv.pth", "serves": "file", "provides": ["fake_gcn_v_single.pth"],
                                 "md5": {"fake_gcn_v_single.pth": md5(GCNV_PTH)}},
            "fake_pair": {"url": f"{url}/pair.tar.gz", "file": "pair.tar.gz",
                          "provides": ["fake_gcn_v.pth", "fake_gcn_e.pth"], "md5": {"fake_gcn_e.pth": md5(GCNE_PTH)}}}


# --- the zoo's names -----------------------------------------------------------------------------------

def test_zoo_names_are_the_provided_files_without_their_ending():
    assert [model_name(n) for n in ("a.pth", "sub/b.pth.tar", "c.pt", "d.bin", ".pth")] == ["a", "b", "c", "d.bin", ".pth"]
    models = fake_zoo("http://127.0.0.1:1")
    assert zoo(models, "data/") == {
        "fake_gcn_v_single": ("data/pretrained_models/fake_gcn_v_single.pth", "fake_gcnv_single"),
        "fake_gcn_v": ("data/pretrained_models/fake_gcn_v.pth", "fake_pair"),
        "fake_gcn_e": ("data/pretrained_models/fake_gcn_e.pth", "fake_pair")}
    single, pair = zoo_entries(models, "d")
    assert (single.single, single.archive) == (True, None)
    assert (pair.single, pair.archive) == (False, "d/pretrained_models/archives/pair.tar.gz")
    assert zoo_entries({"x": {"url": "gdrive:1", "provides": ["x.pth"]}}, "d")[0].archive == "d/pretrained_models/archives/x.archive"
    assert zoo_checkpoint("zoo:fake_gcn_e", models, "d", "s") == "d/pretrained_models/fake_gcn_e.pth"
    assert zoo_checkpoint("my/model.pt", models, "d", "s") == "my/model.pt"
    assert zoo_checkpoint(None, models, "d", "s") is None


def test_an_unknown_zoo_name_is_one_sentence_listing_the_names():
    with pytest.raises(DataError) as err:
        zoo_checkpoint("zoo:nope", fake_zoo("http://127.0.0.1:1"), "d", "methods.gcnv.checkpoint")
    assert str(err.value) == ("methods.gcnv.checkpoint is 'zoo:nope', which is not a model of the zoo (config "
                              "'models'): name one of zoo:fake_gcn_v_single, zoo:fake_gcn_v, zoo:fake_gcn_e, or "
                              "give the path of a checkpoint file.")


@pytest.mark.parametrize("entry, said", [
    ({"url": "gdrive:1", "serves": "file", "provides": ["a.pth", "b.pth"]}, "has 'serves: file'"),
    ({"url": "gdrive:1", "serves": "file", "file": "a.tar", "provides": ["a.pth"]}, "names an archive file"),
    ({"url": "gdrive:1", "provides": ["../a.pth"]}, "not a path inside d/pretrained_models"),
    ({"url": "gdrive:1", "provides": ["fake_gcn_e.pt"]}, "share the zoo name 'fake_gcn_e'"),
])
def test_bad_zoo_entries_are_refused_naming_the_entry(entry, said):
    with pytest.raises(DataError, match=re.escape(said)) as err:
        zoo_entries({**fake_zoo("http://127.0.0.1:1"), "bad": entry}, "d")
    assert "models.bad" in str(err.value)


# --- downloads -----------------------------------------------------------------------------------------

def test_a_single_file_link_and_an_archive_of_two_models(file_server, tmp_path):
    file_server.files.update({"/gcnv.pth": GCNV_PTH, "/pair.tar.gz": PAIR})
    folder = tmp_path / "pretrained_models"
    fetch_file(f"{file_server.url}/gcnv.pth", folder / "one.pth", md5=md5(GCNV_PTH))
    download(f"{file_server.url}/pair.tar.gz", folder / "archives/pair.archive", folder, ["fake_gcn_v.pth", "fake_gcn_e.pth"],
             md5={"fake_gcn_e.pth": md5(GCNE_PTH)})
    assert (folder / "one.pth").read_bytes() == GCNV_PTH
    assert (folder / "fake_gcn_v.pth").read_bytes() == GCNV_PTH and (folder / "fake_gcn_e.pth").read_bytes() == GCNE_PTH
    assert not (folder / "one.pth.part").exists()
    assert (folder / "one.pth.sha256").read_text().split()[0] == hashlib.sha256(GCNV_PTH).hexdigest()


def zip_of(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("body, said", ids=["empty", "html", "tar.gz", "zip", "md5"], argvalues=[
    (b"", "is an empty file, not the file"),
    (b"<!DOCTYPE html><html><body>Google Drive - Quota exceeded</body></html>", "is an HTML page, not the file"),
    (PAIR, "is a gzip file, not a single file: if its link serves an archive, set 'serves: archive'"),
    (zip_of({"a.pth": b"x"}), "is a zip archive, not a single file"),
    (GCNE_PTH, f"has md5 {md5(GCNE_PTH)}, not the published {md5(GCNV_PTH)}"),
])
def test_a_bad_single_file_download_is_refused_and_deleted(file_server, tmp_path, body, said):
    file_server.files["/m.pth"] = body
    with pytest.raises(DataError, match=re.escape(said)):
        fetch_file(f"{file_server.url}/m.pth", tmp_path / "m.pth", md5=md5(GCNV_PTH))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("legacy", [True, False])
def test_a_model_served_where_an_archive_is_expected_says_to_set_serves_file(file_server, tmp_path, legacy):
    file_server.files["/m"] = saved(original_gcnv(), legacy=legacy)
    with pytest.raises(DataError, match="serves a single torch checkpoint, not an archive: if that is the model, "
                                        "set 'serves: file'"):
        download(f"{file_server.url}/m", tmp_path / "archives/m.archive", tmp_path, ["fake_gcn_v.pth"])
    assert not (tmp_path / "fake_gcn_v.pth").exists()


# --- the workflow --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wd(tmp_path_factory):
    return workdir(tmp_path_factory.mktemp("zoo"))


def zoo_config(url: str, **checkpoints) -> dict:
    config = with_(TINY_GCNV, models=fake_zoo(url))
    for method, value in checkpoints.items():
        config["methods"].setdefault(method, {})["checkpoint"] = value
    return config


def test_a_zoo_checkpoint_schedules_its_download_before_inference(wd, file_server):
    config = zoo_config(file_server.url, gcnv="zoo:fake_gcn_v_single", gcne="zoo:fake_gcn_e")
    dag = snakemake(wd, "-n", "results/demo/gcne/test/links.npz", "--dag", config=config).stdout
    label = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)[\\"]', dag, re.M))
    edges = {(label[a], label[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dag, re.M)}
    assert "train_gcnv" not in label.values() and "train_gcne" not in label.values()
    assert ("download_model_fake_gcnv_single", "infer_gcnv_hidden") in edges
    assert ("download_model_fake_pair", "links_gcne") in edges


def test_an_unknown_zoo_name_stops_the_run_with_one_sentence(wd, file_server):
    proc = snakemake(wd, "-n", "results/demo/gcnv/test/confidence.npy",
                     config=zoo_config(file_server.url, gcnv="zoo:pretrained_gcn_v_msm1"), check=False)
    out = proc.stdout + proc.stderr
    errors = [line for line in out.splitlines() if "zoo:pretrained_gcn_v_msm1" in line]
    assert proc.returncode == 1 and "Traceback" not in out and len(errors) == 1
    assert errors[0].startswith("methods.gcnv.checkpoint of dataset 'demo' is 'zoo:pretrained_gcn_v_msm1', which is "
                                "not a model of the zoo")
    assert "zoo:pretrained_gcn_v_ms1m" in errors[0] and "zoo:fake_gcn_e" in errors[0]


def test_the_download_targets_fetch_models_that_load_through_the_workflows_loaders(wd, file_server):
    from ltc.gcn import load_checkpoint as load_gcnv
    from ltc.gcne import load_checkpoint as load_gcne

    file_server.files.update({"/gcnv.pth": GCNV_PTH, "/pair.tar.gz": PAIR})
    config = zoo_config(file_server.url, gcnv="zoo:fake_gcn_v_single")
    snakemake(wd, "download_model_fake_gcnv_single", "download_model_fake_pair", config=config)
    folder = wd / "data/pretrained_models"
    assert (folder / "fake_gcn_v_single.pth").read_bytes() == GCNV_PTH
    assert (folder / "fake_gcn_e.pth").read_bytes() == GCNE_PTH and (folder / "archives/pair.tar.gz").exists()
    gcnv = load_gcnv(folder / "fake_gcn_v_single.pth", dim=DIM)
    expected = original_gcnv()["state_dict"]
    assert all(torch.equal(gcnv.state_dict()[k], v) for k, v in expected.items())
    assert gcnv.conv1.weight[1, 2].item() == pytest.approx(0.01 * (1 * NHID + 2))  # hand-worked: row-major 0.01 i
    gcne = load_gcne(folder / "fake_gcn_e.pth", dim=NHID)
    assert gcne.conv1.weight.shape == (2 * NHID, 8) and gcne.conv4.weight.shape == (8, 4)
    # models already in place, older than the code (put there by hand): nothing is downloaded again
    for path in folder.glob("*.pth"):
        os.utime(path, (1e9, 1e9))
    jobs = planned_jobs(wd, config, "results/demo/gcnv/test/confidence.npy")
    assert not any(job.startswith("download_model") for job in jobs) and jobs["infer_gcnv"] == 1
