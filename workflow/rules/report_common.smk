# Input and params functions of workflow/rules/report.smk: which methods a dataset compares, their
# threshold sweeps, the benchmark files of other stages a method needs, and the shared kNN's.
import shlex
import types

from ltc.methods.baselines import BASELINES


def compare_methods(wildcards):
    """The methods compared on a dataset: datasets.<ds>.compare, else compare, else every configured method."""
    return config["datasets"][wildcards.ds].get("compare", config.get("compare", list(config["methods"])))


def threshold_setting(wildcards, method):
    """The setting whose value a method's threshold.json chooses on the train split, or None."""
    if method in ("gcnv", "gcne"):  # link methods: the threshold they link with
        return link_threshold_name(types.SimpleNamespace(ds=wildcards.ds, lmethod=method))
    if method == "knn_cc":
        return "threshold"
    return getattr(BASELINES.get(method), "threshold", None)


def compare_sweep_files(wildcards):
    """METHOD -> threshold.json of the compared methods whose threshold is chosen on a train split ('auto')."""
    out = {}
    for method in compare_methods(wildcards):
        name = threshold_setting(wildcards, method)
        files = threshold_file(wildcards, method, name) if name else []  # none unless the threshold is 'auto'
        if files:
            out[method] = files[0]
    return out


def compare_needs(wildcards):
    """METHOD -> benchmark file stems (globs) of other stages the method needs, counted toward it.

    A method's own steps are found by name (ltc/report.py); list here only what it borrows."""
    tag = FILE_TAG[knn_settings(wildcards)["method"]]
    needs = {}
    for method in compare_methods(wildcards):
        if method == "gcne":  # GCN-V's model, confidences and features, and the kNN of those features
            own_model = gcnv_model(wildcards) == f"results/{wildcards.ds}/gcnv/model.pt"
            needs[method] = [*(["train_gcnv"] if own_model else []), "infer_gcnv_*",
                             f"knn_gcn_features_*_{tag}_k_{gcne_settings(wildcards)['k']}"]
        elif method == "gcnv" and gcnv_settings(wildcards)["use_gcn_feat"]:
            needs[method] = [f"knn_gcn_features_*_{tag}_k_{knn_settings(wildcards)['k']}"]
    return needs


def shared_knn_benchmarks(wildcards):
    """Benchmark file stems (globs) of the kNN graph of the features (test, and train if there is one)
    that we build: its index, its query shards and the merge; none for a precomputed kNN file."""
    knn = knn_settings(wildcards)
    tag = FILE_TAG[knn["method"]]
    out = []
    for which in ("train", "test"):
        if which in config["datasets"][wildcards.ds] and not precomputed_knn_source(wildcards, which):
            k = knn_k(wildcards, which)
            out += [f"knn_{which}_{tag}_k_{k}", f"knn_index_{which}_{tag}",
                    f"knn_shard_{which}_{tag}_k_{k}.*-of-{knn.get('shards', 1)}"]
    return out


def compare_options(wildcards):
    """Command-line options of compare.py that come from the config."""
    needs = " ".join(shlex.quote(f"{m}={','.join(globs)}") for m, globs in compare_needs(wildcards).items())
    sweeps = " ".join(shlex.quote(f"{m}={path}") for m, path in compare_sweep_files(wildcards).items())
    return (f"--methods {' '.join(compare_methods(wildcards))} --all-methods {' '.join(config['methods'])}"
            f" --shared {' '.join(map(shlex.quote, shared_knn_benchmarks(wildcards)))}"
            + (f" --needs {needs}" if needs else "") + (f" --sweep {sweeps}" if sweeps else ""))


def test_scales(wildcards):
    """The names of a dataset's test scales (datasets.<ds>.test_scales), in config order."""
    spec = config["datasets"][wildcards.ds]
    if "scale_of" in spec:
        stop(
            f"dataset '{wildcards.ds}' is one test scale of '{spec['scale_of']}': the table of all its scales "
            f"is results/{spec['scale_of']}/scales.md."
        )
    scales = spec.get("test_scales")
    if not scales:
        stop(
            f"dataset '{wildcards.ds}' has no test_scales, so it has no scale table: list its test sets "
            f"of growing size under {config_key(wildcards.ds)}.test_scales, or ask for results/{wildcards.ds}/all."
        )
    return [str(s) for s in scales]


def everything_compared(wildcards):
    """What results/<ds>/all stands for: the comparison on the test split, and for each test scale its
    comparison (and headline scores, fscore.txt, if the configured `method` is a compared one), then
    the scale table."""
    spec, ds = config["datasets"][wildcards.ds], wildcards.ds
    out = [f"results/{ds}/comparison.tsv"] if "test" in spec else []
    if "test_scales" in spec:
        names = ["all", "fscore.txt"] if config["method"] in compare_methods(wildcards) else ["all"]
        out += [f"results/{ds}/{s}/{name}" for s in test_scales(wildcards) for name in names]
        out.append(f"results/{ds}/scales.tsv")
    return out
