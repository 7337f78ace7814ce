"""GCN-D's second proposal iteration (super-vertices; the original's proposals/generate_iter_proposals.py,
ltc.proposals.super_vertex_proposals) against a hand-worked example and a plain-loop reference, its
refusals, and the workflow's rule proposals_gcnd_sv (dry run and a tiny real run)."""
import subprocess
import sys

import numpy as np
import pytest

from helpers import REPO, TINY, planned_jobs, snakemake, with_, workdir
from ltc import DataError, proposals
from ltc.io import load_knn, read_features, save_knn
from ltc.methods import registry
from ltc.methods.gcnd import check, proposal_sets

# An iteration-0 kNN graph of 12 vertices given by hand (K = 3, self first, -1 missing; the function
# takes it as it is, the features below only make the super-vertices' means), cosine similarities:
# 0-1 0.9, 1-2 0.9 | 3-4 0.9 | 5-6 0.9 | 7-8 0.85, 8-9 0.99, 9-10 0.99 | 11-0 0.5
ROWS = [
    [(0, 1.0), (1, 0.9), (11, 0.5)],
    [(1, 1.0), (0, 0.9), (2, 0.9)],
    [(2, 1.0), (1, 0.9), (-1, None)],
    [(3, 1.0), (4, 0.9), (-1, None)],
    [(4, 1.0), (3, 0.9), (-1, None)],
    [(5, 1.0), (6, 0.9), (-1, None)],
    [(6, 1.0), (5, 0.9), (-1, None)],
    [(7, 1.0), (8, 0.85), (-1, None)],
    [(8, 1.0), (9, 0.99), (7, 0.85)],
    [(9, 1.0), (8, 0.99), (10, 0.99)],
    [(10, 1.0), (9, 0.99), (-1, None)],
    [(11, 1.0), (0, 0.5), (-1, None)],
]
# features (not unit: they are normalised first): super-vertex 0 = {0, 1, 2} all e1; 1 = {3, 4}: e1, e2;
# 2 = {5, 6}: e2, e3; 3 = {7}: e3; 4 = {8, 9, 10} all -e1; vertex 11 (in no link) anything
FEATS = np.array([[1, 0, 0], [3, 0, 0], [1, 0, 0], [1, 0, 0], [0, 2, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1],
                  [-1, 0, 0], [-5, 0, 0], [-1, 0, 0], [0, 1, 1]], dtype=np.float32)
# base setting: k 3, th 0.8 (drops 11-0), maxsz 3, step 0.5: see test_super_vertices_are_every_iteration0_cluster
BASE = dict(base_k=3, base_th=0.8, base_step=0.5, base_maxsz=3)


def graph():
    ids = np.array([[i for i, _ in row] for row in ROWS], dtype=np.int64)
    dists = np.array([[1.0 - s if s is not None else np.inf for _, s in row] for row in ROWS], dtype=np.float32)
    return ids, dists


def as_lists(p):
    return [p.proposal(i).tolist() for i in range(len(p))]


def run(**settings):
    return as_lists(proposals.super_vertex_proposals(*graph(), FEATS, **{**BASE, **settings}))


def test_super_vertices_are_every_iteration0_cluster_and_their_means():
    """th 0.8 keeps every link but 11-0: components {0,1,2}, {3,4}, {5,6}, {7,8,9,10}. The last exceeds
    maxsz 3: the first threshold is the smallest kept similarity, 0.85, one round raises it to
    0.85 + 0.15 * 0.5 = 0.925 and cuts 7-8: {7} and {8,9,10}. All five are super-vertices, the pairs and
    the split-off single vertex 7 too (no minsz filter); vertex 11 is in none. Means of the unit rows:
    e1; (e1 + e2) / 2; (e2 + e3) / 2; e3; -e1 (not normalised again)."""
    ids, dists = graph()
    clusters = proposals.linked_clustering(len(ids), *proposals.proposal_links(ids, dists, 3, 0.8), 3, 0.5)
    assert clusters.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 4, 4, 4, -1]
    means = proposals.super_vertex_means(FEATS, clusters)
    assert means.dtype == np.float32
    np.testing.assert_allclose(means, [[1, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5], [0, 0, 1], [-1, 0, 0]], atol=1e-7)


def test_links_at_th_parts_and_unions_by_hand():
    """Cosines of the means: m0-m1 = 0.5 / sqrt(0.5) = 0.7071, m1-m2 = 0.25 / 0.5 = 0.5, m2-m3 = 0.7071,
    m0-m2 = m0-m3 = m1-m3 = 0, m4 with all <= 0. k 2 (itself and its most similar): links 0-1 and 2-3
    (m4's best, 0, is below th 0.4), two parts of two super-vertices: {0,1,2} + {3,4} and {5,6} + {7}."""
    assert run(k=2, sv_maxsz=8) == [[0, 1, 2, 3, 4], [5, 6, 7]]
    # th 0.7 keeps the links of 0.7071, th 0.71 drops them: no link, no proposal
    assert run(k=2, sv_maxsz=8, th=0.7) == [[0, 1, 2, 3, 4], [5, 6, 7]]
    assert run(k=2, sv_maxsz=8, th=0.71) == []
    # k 3 also links 1-2 (0.5): one chain of four super-vertices, within sv_maxsz 4
    assert run(k=3, sv_maxsz=4) == [[0, 1, 2, 3, 4, 5, 6, 7]]


def test_sv_maxsz_splits_at_a_rising_threshold():
    """k 3, sv_maxsz 3: the chain 0-1 (0.7071), 1-2 (0.5), 2-3 (0.7071) has four super-vertices; the
    threshold starts at its smallest similarity, 0.5, and one round (step 0.05) raises it to 0.525,
    which cuts 1-2 only."""
    assert run(k=3, sv_maxsz=3) == [[0, 1, 2, 3, 4], [5, 6, 7]]
    # step 1 jumps to 1 and cuts every link: single super-vertices, which sv_minsz 2 drops
    assert run(k=3, sv_maxsz=3, step=1.0) == []


def test_sv_minsz_minsz_and_maxsz_drops():
    # sv_minsz 3: the two parts of two super-vertices go; k 3's chain of four stays
    assert run(k=2, sv_maxsz=8, sv_minsz=3) == []
    assert run(k=3, sv_maxsz=4, sv_minsz=3) == [[0, 1, 2, 3, 4, 5, 6, 7]]
    # minsz 4 drops {5,6,7} (3 vertices); maxsz 4 drops {0,1,2,3,4} (5); maxsz 7 the chain's 8
    assert run(k=2, sv_maxsz=8, minsz=4) == [[0, 1, 2, 3, 4]]
    assert run(k=2, sv_maxsz=8, maxsz=4) == [[5, 6, 7]]
    assert run(k=3, sv_maxsz=4, maxsz=7) == []


def test_inner_product_of_the_means():
    """Inner products: m0.m1 = 0.5, m2.m3 = 0.5, m1.m2 = 0.25 < th 0.4 (its cosine, 0.5, is kept): with
    k 3 and sv_maxsz 4 the chain stays cut in two."""
    assert run(k=3, sv_maxsz=4, similarity="inner") == [[0, 1, 2, 3, 4], [5, 6, 7]]


def test_setting_recorded_and_round_trips(tmp_path):
    p = proposals.super_vertex_proposals(*graph(), FEATS, k=2, sv_maxsz=8, **BASE)
    assert (p.k, p.th, p.step, p.minsz, p.maxsz, p.n) == (3, 0.8, 0.5, 3, 500, 12)
    assert p.super_vertex == proposals.SuperVertex(2, 0.4, 0.05, 2, 8, "cosine", 3)
    proposals.save(tmp_path / "p.npz", p)
    back = proposals.load(tmp_path / "p.npz", 12)
    assert back.super_vertex == p.super_vertex and as_lists(back) == as_lists(p)
    plain = proposals.basic_proposals(*graph(), 3, 0.8, 0.5, 2, 3)
    proposals.save(tmp_path / "q.npz", plain)
    assert proposals.load(tmp_path / "q.npz").super_vertex is None


def reference(ids, dists, feats, k0, th0, k, th, sv_minsz, minsz, maxsz):
    """Plain loops, no splitting (maxsz large): iteration-0 components by union-find, means by a loop,
    dense cosine kNN of the means, components of their links, the filters."""
    def components(n, pairs):
        parent = list(range(n))

        def root(a):
            while parent[a] != a:
                a = parent[a]
            return a
        for a, b in pairs:
            parent[root(a)] = root(b)
        return [root(a) for a in range(n)]

    n = len(ids)
    pairs = [(i, j) for i in range(n) for j, d in zip(ids[i, :k0], dists[i, :k0])
             if j >= 0 and j != i and 1 - float(d) >= th0]
    linked = sorted({v for pair in pairs for v in pair})
    roots = components(n, pairs)
    svs = [[v for v in linked if roots[v] == r] for r in dict.fromkeys(roots[v] for v in linked)]
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    means = np.array([unit[members].mean(axis=0) for members in svs])
    directions = means / np.linalg.norm(means, axis=1, keepdims=True)
    cos = directions @ directions.T
    near = [np.argsort(-cos[s], kind="stable")[:k] for s in range(len(svs))]
    sv_pairs = [(s, t) for s in range(len(svs)) for t in near[s] if t != s and cos[s, t] >= th]
    sv_roots = components(len(svs), sv_pairs)
    out = []
    for r in dict.fromkeys(sv_roots):
        part = [s for s in range(len(svs)) if sv_roots[s] == r]
        members = sorted(v for s in part for v in svs[s])
        if len(part) >= sv_minsz and minsz <= len(members) <= maxsz:
            out.append(members)
    return sorted(out)


def test_matches_a_plain_loop_reference_on_random_groups():
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((12, 16))
    x = (np.repeat(centres, 8, axis=0) + 0.6 * rng.standard_normal((96, 16))).astype(np.float32)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    dists = (1 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)
    for k0, th0, k in [(10, 0.7, 2), (5, 0.6, 3), (10, 0.8, 3)]:
        got = proposals.super_vertex_proposals(ids, dists, x, k0, th0, k, 10 ** 6, base_maxsz=10 ** 6, th=0.4,
                                               minsz=3, maxsz=500)
        assert sorted(as_lists(got)) == reference(ids, dists, x, k0, th0, k, 0.4, 2, 3, 500), (k0, th0, k)
        assert len(got) > 0


def one_sentence(message):
    return message.replace("e.g. ", "").count(". ") == 0 and message.endswith(".")


def test_bad_settings_are_refused_in_one_sentence():
    ids, dists = graph()
    cases = [(dict(k=0, sv_maxsz=8), "methods.gcnd.super_vertex has k = 0"),
             (dict(k=2, sv_maxsz=1), "methods.gcnd.super_vertex has sv_maxsz = 1, below sv.sv_minsz 2"),
             (dict(k=2, sv_maxsz=8, sv_minsz=1), "methods.gcnd.sv.sv_minsz is 1"),
             (dict(k=2, sv_maxsz=8, similarity="l2"), "methods.gcnd.sv.similarity is 'l2'"),
             (dict(k=2, sv_maxsz=8, base_k=4), "methods.gcnd.super_vertex has base_k = 4, which must be at most the kNN "
                                               "file's 3 neighbours"),
             (dict(k=2, sv_maxsz=8, base_th=1.5), "methods.gcnd.super_vertex has base_th = 1.5")]
    for settings, message in cases:
        with pytest.raises(DataError) as err:
            proposals.super_vertex_proposals(ids, dists, FEATS, **{**BASE, **settings})
        assert message in str(err.value) and one_sentence(str(err.value)), str(err.value)
    with pytest.raises(DataError, match="12 feature rows for a kNN graph of 11 rows"):
        proposals.super_vertex_proposals(ids[:11], dists[:11], FEATS, k=2, sv_maxsz=8, **BASE)
    # the config's entries, checked with the other settings of methods.gcnd
    for entries, message in [([[80, 0.6, 2]], "set it to a list of [base_k, base_th, k, sv_maxsz]"),
                             ([[80, "x0.6", 2, 8]], "methods.gcnd.super_vertex has base_th = 'x0.6'"),
                             ([[0, 0.6, 2, 8]], "methods.gcnd.super_vertex has base_k = 0"),
                             ([[80, 0.6, 0, 8]], "methods.gcnd.super_vertex has k = 0"),
                             ([[80, 0.6, 2, 8], [80, 0.6, 2, 8]], "lists an entry twice")]:
        with pytest.raises(DataError) as err:
            check(registry.get("gcnd").settings({"super_vertex": entries}))
        assert message in str(err.value) and one_sentence(str(err.value)), str(err.value)
    check(registry.get("gcnd").settings({"super_vertex": [[80, "q0.8", 2, 8]]}))


def test_script_refuses_a_base_k_above_the_knn_files_in_one_sentence(tmp_path):
    ids, dists = graph()
    save_knn(tmp_path / "knn.npz", ids, dists)
    FEATS.tofile(tmp_path / "f.bin")
    out = tmp_path / "p.npz"
    proc = subprocess.run([sys.executable, str(REPO / "workflow/scripts/proposals_gcnd.py"), "--knn",
                           str(tmp_path / "knn.npz"), "--k", "5", "--th", "0.8", "--features", str(tmp_path / "f.bin"),
                           "--dim", "3", "--i1-k", "2", "--i1-sv-maxsz", "8", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "methods.gcnd.super_vertex has base_k = 5" in lines[0], proc.stderr


TINY_SV = with_(TINY, method="gcnd", methods__gcnd__proposals=[[10, 0.6], [5, "q0.5"]],
                methods__gcnd__super_vertex=[[10, 0.6, 2, 8], [10, "q0.7", 3, 5]], methods__gcnd__hidden=[16, 8],
                methods__gcnd__train__max_epochs=2)
SV_FILES = ["sv_k_2_maxsz_8_of_k_10_th_0.6.npz", "sv_k_3_maxsz_5_of_k_10_th_q0.7.npz"]


def test_dry_run_plans_one_job_per_setting_and_split_and_train_reads_them(tmp_path):
    wd = workdir(tmp_path)
    jobs = planned_jobs(wd, TINY_SV, "results/demo/gcnd/pred_labels.meta")
    assert jobs["proposals_gcnd"] == 4 and jobs["proposals_gcnd_sv"] == 4 and jobs["thresholds_gcnd"] == 1
    out = snakemake(wd, "-n", "-p", "results/demo/gcnd/pred_labels.meta", config=TINY_SV).stdout
    commands = [line for line in out.splitlines() if line.startswith("Shell command:")]
    train = next(line for line in commands if "train_gcnd.py" in line)
    listed = train.split("--proposals")[1].split("--hidden")[0].split()
    assert [p.rpartition("/")[2] for p in listed] == ["k_10_th_0.6.npz", "k_5_th_q0.5.npz", *SV_FILES]
    assert all(p.startswith("results/demo/gcnd/train/proposals/") for p in listed)
    # the derived th of a base is derived with those of the proposals
    derive = next(line for line in commands if "thresholds_gcnd.py" in line)
    assert "--k 5 10 --th q0.5 q0.7" in derive
    # a setting the schema lets through but the method refuses stops the plan with one sentence
    bad = with_(TINY_SV, methods__gcnd__sv__sv_minsz=3, methods__gcnd__super_vertex=[[10, 0.6, 2, 2]])
    proc = snakemake(wd, "-n", "results/demo/gcnd/pred_labels.meta", config=bad, check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "methods.gcnd.super_vertex has sv_maxsz = 2, below sv.sv_minsz 3" in said


def test_tiny_run_with_a_second_iteration(tmp_path):
    """The workflow's proposal sets of the test split equal those the one-step path makes
    (ltc.methods.gcnd.proposal_sets) from the same kNN graph and features, and GCN-D clusters with them."""
    settings = {"proposals": [[10, 0.6]], "super_vertex": [[10, 0.6, 2, 8], [10, 0.6, 3, 5]]}
    config = with_(TINY_SV, methods__gcnd__proposals=settings["proposals"],
                   methods__gcnd__super_vertex=settings["super_vertex"])
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/gcnd/pred_labels.meta", config=config)
    labels = np.loadtxt(wd / "results/demo/gcnd/pred_labels.meta", dtype=np.int64)
    assert labels.min() == 0 and len(labels) == len(read_features(wd / "data/features/demo_test.bin", 256))
    folder = wd / "results/demo/gcnd/test/proposals"
    names = ["k_10_th_0.6.npz", "sv_k_2_maxsz_8_of_k_10_th_0.6.npz", "sv_k_3_maxsz_5_of_k_10_th_0.6.npz"]
    made = [proposals.load(folder / name) for name in names]
    ids, dists = load_knn(wd / "results/demo/knn/test/faiss_k_10.npz")
    feats = read_features(wd / "data/features/demo_test.bin", 256)
    expected = proposal_sets(registry.get("gcnd").settings(settings), ids, dists, feats)
    for name, got, want in zip(names, made, expected):
        assert np.array_equal(got.members, want.members) and np.array_equal(got.offsets, want.offsets), name
        assert got.super_vertex == want.super_vertex, name
    assert made[0].super_vertex is None and all(len(p) for p in made)
    assert made[1].super_vertex == proposals.SuperVertex(2, 0.4, 0.05, 2, 8, "cosine", 300)
    print("test proposals per set:", {name: len(p) for name, p in zip(names, made)},
          "sizes:", {name: f"{p.sizes.min()}-{p.sizes.max()}" for name, p in zip(names, made)})
