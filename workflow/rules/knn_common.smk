# Input and params functions of the kNN rules (knn.smk): which features a kNN folder searches. The
# input features' kNN is results/<ds>/knn/<split>/; a method whose rules make features of their own
# registers them (register_feature_set) under a folder knn_<name>_features, and their kNN goes through
# the same index / shard / gather rules.

FEATURE_SETS = {}  # knn_dir -> (inputs(wildcards) -> {"features": path, ...}, width(wildcards) -> int)
KNN_DIR_PATTERN = r"knn|knn_\w+_features"  # the knn_dir wildcard: "knn" or a registered feature set


def register_feature_set(knn_dir, inputs, width):
    """A method's rules file makes features a kNN is built on: ``inputs(wildcards)`` gives the files a
    kNN job of that feature set reads (``features``: the N x width rows), ``width(wildcards)`` their width."""
    assert re.fullmatch(KNN_DIR_PATTERN, knn_dir) and knn_dir != "knn", knn_dir
    FEATURE_SETS[knn_dir] = (inputs, width)


def knn_inputs(wildcards):
    """The files a kNN job of folder ``wildcards.knn_dir`` reads besides its script: ``features`` and, for
    the input features, ``summary`` (validate's, so a bad file stops first)."""
    if wildcards.knn_dir == "knn":
        return {
            "features": split_inputs(wildcards)["features"],  # the labels play no part in a kNN
            "summary": f"results/{wildcards.ds}/validate/{wildcards.split}.json",
        }
    return feature_set(wildcards)[0](wildcards)


def knn_width(wildcards):
    """The row width of the features a kNN job searches: datasets.<ds>.dim, or the feature set's."""
    if wildcards.knn_dir == "knn":
        return config["datasets"][wildcards.ds]["dim"]
    return feature_set(wildcards)[1](wildcards)


def feature_set(wildcards):
    if wildcards.knn_dir not in FEATURE_SETS:
        stop(
            f"results/{wildcards.ds}/{wildcards.knn_dir}/ is no kNN folder: the kNN of the input features is "
            f"results/{wildcards.ds}/knn/<split>/, and the rules register {', '.join(FEATURE_SETS) or 'no other'}."
        )
    return FEATURE_SETS[wildcards.knn_dir]


def knn_path(wildcards, knn_dir, split, k):
    """The kNN file (k neighbours, knn.method's tag) of a split in folder ``knn_dir``."""
    return f"results/{wildcards.ds}/{knn_dir}/{split}/{FILE_TAG[knn_settings(wildcards)['method']]}_k_{k}.npz"


def knn_steps(wildcards, knn_dir, split, k):
    """Benchmark file stems of a kNN this workflow builds (``split`` may be ``*``): its saved index (an
    approximate search), its query shards and the merge, from the kNN rules' own benchmark paths."""
    knn = knn_settings(wildcards)
    values = {"knn_dir": knn_dir, "split": split, "tag": FILE_TAG[knn["method"]]}
    index = [benchmark_stem("knn_index", wildcards, **values)] if knn["method"] != "flat" else []
    return index + [
        benchmark_stem("knn_shard", wildcards, k=k, shards=knn["shards"], **values),
        benchmark_stem("knn", wildcards, k=k, **values),
    ]
