"""results/<ds>/<method>/clusters.{tsv,json}, the split's ids, and folders of links to each cluster's images."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO, TINY_GCNV, custom, snakemake, with_, workdir

from ltc import DataError
from ltc.clusters import cluster_table, link_images, read_ids, read_table, write_json, write_table

SCRIPT = REPO / "workflow/scripts/clusters.py"
# label 7: items 0 2 5 (3 items) -> cluster 0; label 3: items 1 4 -> cluster 1; labels 5 and 9: singletons,
# items 3 and 6, in the order of their first item -> clusters 2 and 3
LABELS = np.array([7, 3, 7, 5, 3, 7, 9])
IDS = np.array([f"p{i}/{i}.jpg" for i in range(7)], dtype=object)
CONF = np.array([0.5, -0.25, 0.125, 1.0, 0.0, 0.75, 0.3333333])


def test_cluster_table_by_hand():
    t = cluster_table(LABELS, IDS, CONF)
    assert t.index.tolist() == [0, 2, 5, 1, 4, 3, 6]
    assert t.cluster.tolist() == [0, 0, 0, 1, 1, 2, 3]
    assert t.cluster_size.tolist() == [3, 3, 3, 2, 2, 1, 1]
    assert t.id.tolist() == ["p0/0.jpg", "p2/2.jpg", "p5/5.jpg", "p1/1.jpg", "p4/4.jpg", "p3/3.jpg", "p6/6.jpg"]
    assert t.confidence.tolist() == [0.5, 0.125, 0.75, -0.25, 0.0, 1.0, 0.3333333]
    assert t.n_clusters == 4


def test_equal_sizes_go_by_first_item():
    t = cluster_table(np.array([4, 9, 9, 4, 1]))
    # 4: items 0 3; 9: items 1 2 (both size 2, 4 first at item 0); 1: item 4
    assert t.index.tolist() == [0, 3, 1, 2, 4] and t.cluster.tolist() == [0, 0, 1, 1, 2]
    assert t.id is None and t.confidence is None


def test_tsv_and_json_by_hand(tmp_path):
    t = cluster_table(LABELS, IDS, CONF)
    write_table(t, tmp_path / "c.tsv")
    assert (tmp_path / "c.tsv").read_text() == (
        "index\tid\tcluster\tcluster_size\tconfidence\n"
        "0\tp0/0.jpg\t0\t3\t0.5\n2\tp2/2.jpg\t0\t3\t0.125\n5\tp5/5.jpg\t0\t3\t0.75\n"
        "1\tp1/1.jpg\t1\t2\t-0.25\n4\tp4/4.jpg\t1\t2\t0\n3\tp3/3.jpg\t2\t1\t1\n6\tp6/6.jpg\t3\t1\t0.333333\n")
    write_json(t, tmp_path / "c.json", {"method": "m"})
    doc = json.loads((tmp_path / "c.json").read_text())
    assert (doc["method"], doc["n_items"], doc["n_clusters"], doc["n_singletons"]) == ("m", 7, 4, 2)
    assert doc["clusters"][0] == {"cluster": 0, "size": 3, "members": [0, 2, 5],
                                  "ids": ["p0/0.jpg", "p2/2.jpg", "p5/5.jpg"], "confidence": [0.5, 0.125, 0.75]}
    assert doc["clusters"][3] == {"cluster": 3, "size": 1, "members": [6], "ids": ["p6/6.jpg"],
                                  "confidence": [0.333333]}
    back = read_table(tmp_path / "c.tsv")
    assert back.index.tolist() == t.index.tolist() and back.id.tolist() == t.id.tolist()


def test_tsv_without_ids_or_confidence(tmp_path):
    write_table(cluster_table(np.array([2, 2, 8])), tmp_path / "c.tsv")
    assert (tmp_path / "c.tsv").read_text() == ("index\tid\tcluster\tcluster_size\tconfidence\n"
                                                "0\t\t0\t2\t\n1\t\t0\t2\t\n2\t\t1\t1\t\n")
    back = read_table(tmp_path / "c.tsv")
    assert back.id is None and back.confidence is None
    write_json(cluster_table(np.array([2, 2, 8])), tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text())["clusters"][1] == {"cluster": 1, "size": 1, "members": [2]}


def test_read_ids(tmp_path):
    f = tmp_path / "ids.txt"
    f.write_bytes(b"\xef\xbb\xbfa b.jpg\r\ndir/c.jpg\r\n")  # BOM, Windows line ends, a space inside an id
    assert read_ids(f, 2).tolist() == ["a b.jpg", "dir/c.jpg"]
    for text, n, words in (("a\nb\n", 3, "has 2 lines but its split has 3 items"), ("a\n\nb\n", 3, "line 2 is blank"),
                           ("a\nb\tx\n", 2, "line 2 holds a tab")):
        f.write_text(text)
        with pytest.raises(DataError, match=words) as err:
            read_ids(f, n, "datasets.mine.test.ids")
        assert "datasets.mine.test.ids" in str(err.value)
    with pytest.raises(DataError, match="does not exist"):
        read_ids(tmp_path / "nope.txt", 1)


def images(tmp_path, names):
    for name in names:
        (tmp_path / "imgs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "imgs" / name).write_bytes(b"jpeg")


def test_link_images(tmp_path):
    images(tmp_path, IDS)
    t = cluster_table(LABELS, IDS)
    got = link_images(t, tmp_path / "out", image_root=tmp_path / "imgs")
    assert got == {"clusters": 2, "links": 7}
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["cluster_0", "cluster_1", "unclustered"]
    assert sorted(os.listdir(out / "cluster_0")) == ["0_0.jpg", "2_2.jpg", "5_5.jpg"]
    assert sorted(os.listdir(out / "unclustered")) == ["3_3.jpg", "6_6.jpg"]
    link = out / "cluster_1" / "4_4.jpg"
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "imgs" / "p4/4.jpg")
    with pytest.raises(DataError, match="is not empty"):  # never overwrites
        link_images(t, out, image_root=tmp_path / "imgs")
    every = link_images(t, tmp_path / "all", image_root=tmp_path / "imgs", min_size=1)
    assert every == {"clusters": 4, "links": 7} and "unclustered" not in os.listdir(tmp_path / "all")


def test_link_images_refuses_before_making_anything(tmp_path):
    images(tmp_path, IDS[:-1])  # the last image is missing
    t = cluster_table(LABELS, IDS)
    with pytest.raises(DataError, match=r"1 of the 7 ids .* 'p6/6.jpg'"):
        link_images(t, tmp_path / "out", image_root=tmp_path / "imgs")
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataError, match="has no ids"):
        link_images(cluster_table(LABELS), tmp_path / "out")


def six_items(tmp_path):
    """Six points that knn_cc (cosine >= 0.5) cuts into {0,1,2} {3,4} {5}; ids are image paths."""
    rng = np.random.default_rng(0)
    axes = np.eye(8, dtype=np.float32)[[0, 0, 0, 1, 1, 2]]
    config = custom(tmp_path, axes + 0.01 * rng.standard_normal(axes.shape), [0, 0, 0, 1, 1, 2])
    names = [f"face_{i}.png" for i in range(6)]
    images(tmp_path, names)
    (tmp_path / "ids.txt").write_text("".join(f"{tmp_path}/imgs/{n}\n" for n in names))
    return with_(config, datasets__mine__test__ids=str(tmp_path / "ids.txt"))


def test_workflow_clusters_and_link_images(tmp_path):
    """As a user would: a dataset with an ids file -> clusters.tsv -> folders of image links."""
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    config = six_items(tmp_path)
    snakemake(wd, "results/mine/knn_cc/clusters.tsv", config=config)
    lines = (wd / "results/mine/knn_cc/clusters.tsv").read_text().splitlines()
    assert lines[0] == "index\tid\tcluster\tcluster_size\tconfidence"
    assert [line.split("\t") for line in lines[1:]] == [
        [str(i), f"{tmp_path}/imgs/face_{i}.png", str(c), str(s), ""]
        for i, c, s in ((0, 0, 3), (1, 0, 3), (2, 0, 3), (3, 1, 2), (4, 1, 2), (5, 2, 1))]
    doc = json.loads((wd / "results/mine/knn_cc/clusters.json").read_text())
    assert (doc["dataset"], doc["method"], doc["n_clusters"]) == ("mine", "knn_cc", 3)
    proc = subprocess.run([sys.executable, str(SCRIPT), "results/mine/knn_cc/clusters.tsv", "--link-images", "faces"],
                          cwd=wd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(wd / "faces")) == ["cluster_0", "cluster_1", "unclustered"]
    assert os.readlink(wd / "faces/cluster_1/3_face_3.png") == f"{tmp_path}/imgs/face_3.png"
    again = subprocess.run([sys.executable, str(SCRIPT), "results/mine/knn_cc/clusters.tsv", "--link-images", "faces"],
                           cwd=wd, capture_output=True, text=True)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip().count("\n") == 0 and "is not empty" in again.stderr


def test_workflow_refuses_a_wrong_ids_file(tmp_path):
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    config = six_items(tmp_path)
    (tmp_path / "ids.txt").write_text("a.png\nb.png\n")
    proc = snakemake(wd, "results/mine/knn_cc/clusters.tsv", config=config, check=False)
    assert proc.returncode != 0
    log = (wd / "results/mine/logs/clusters_knn_cc.log").read_text()
    assert "has 2 lines but its split has 6 items" in log and "datasets.mine.test.ids" in log
    assert "Traceback" not in log
    assert not (wd / "results/mine/knn_cc/clusters.tsv").exists()
    missing = with_(config, datasets__mine__test__ids=str(tmp_path / "nope.txt"))
    proc = snakemake(wd, "-n", "results/mine/knn_cc/clusters.tsv", config=missing, check=False)
    assert proc.returncode != 0 and "nope.txt" in proc.stdout + proc.stderr


def test_workflow_gcnv_clusters_carry_its_confidence(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/gcnv/clusters.tsv", config=TINY_GCNV)
    conf = np.load(wd / "results/demo/gcnv/test/confidence.npy")
    t = read_table(wd / "results/demo/gcnv/clusters.tsv")
    assert t.confidence is not None and t.id is None
    np.testing.assert_allclose(t.confidence, conf[t.index], rtol=1e-5, atol=1e-6)
    pred = np.loadtxt(wd / "results/demo/gcnv/pred_labels.meta", dtype=np.int64)
    sizes = np.bincount(np.unique(pred, return_inverse=True)[1])
    assert t.cluster_size[0] == sizes.max() and (np.diff(t.cluster) >= 0).all()
    assert (np.diff(t.cluster_size) <= 0).all()
    assert not (wd / "results/demo/benchmarks/clusters_gcnv.tsv").exists()  # not a step of the method
