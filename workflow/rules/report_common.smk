# Input and params functions of workflow/rules/report.smk: which methods a dataset compares, their
# threshold sweeps, the benchmark files of other stages a method needs, and the shared kNN's.
import shlex


def compare_methods(wildcards):
    """The methods compared on a dataset: datasets.<ds>.compare, else compare, else every configured method;
    each that reattach.methods lists followed by <method>+reattach (its singletons re-attached, reattach.smk)."""
    methods = config["datasets"][wildcards.ds].get("compare", config.get("compare", list(config["methods"])))
    return with_reattached(wildcards, methods)


def compare_sweep_files(wildcards):
    """METHOD -> threshold.json of the compared methods whose threshold is chosen on a train split ('auto')."""
    out = {}
    for method in compare_methods(wildcards):
        if method not in config["methods"]:  # <method>+reattach: the method's own threshold is its row's
            continue
        files = threshold_file(wildcards, method)  # none unless the threshold is 'auto'
        if files:
            out[method] = files[0]
    return out


def shared_knn_benchmarks(wildcards):
    """Benchmark file stems of the kNN graph of the input features (test, and train if there is one)
    that we build: its index, its query shards and the merge; none for a precomputed kNN file."""
    out = []
    for which in ("train", "test"):
        if which in config["datasets"][wildcards.ds] and not precomputed_knn_source(wildcards, which):
            out += knn_steps(wildcards, "knn", which, knn_k(wildcards, which))
    return out


def compare_options(wildcards):
    """Command-line options of compare.py that come from the config and the methods' registrations: each
    compared method's cost steps (register_cost), the shared kNN, the threshold sweeps."""
    sweeps = " ".join(shlex.quote(f"{m}={path}") for m, path in compare_sweep_files(wildcards).items())
    return (f"--methods {' '.join(compare_methods(wildcards))} {cost_options(wildcards, compare_methods(wildcards))}"
            + (f" --sweep {sweeps}" if sweeps else ""))


def cost_options(wildcards, methods):
    """--steps (each method's registered cost steps) and --shared (the input features' kNN graph)."""
    steps = " ".join(shlex.quote(f"{m}={','.join(COSTS[m](wildcards))}") for m in methods)
    return f"--steps {steps} --shared {' '.join(map(shlex.quote, shared_knn_benchmarks(wildcards)))}"


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
    """What results/<ds>/all stands for: the comparison on the test split (its summary if the split has no
    labels), and for each test scale its comparison (and headline scores, fscore.txt, if the configured
    `method` is a compared one), then the scale table (when every scale is labelled)."""
    spec, ds = config["datasets"][wildcards.ds], wildcards.ds
    if "test" in spec:  # a test split without labels has no scores: summary.{tsv,md} (clusters.smk) instead
        out = [f"results/{ds}/comparison.tsv" if test_is_labelled(wildcards) else f"results/{ds}/summary.tsv"]
    else:
        out = []
    if "test_scales" in spec:
        headline = config["method"] == "auto" or config["method"] in compare_methods(wildcards)
        names = ["all", "fscore.txt"] if headline else ["all"]
        labelled = {s: test_is_labelled(types.SimpleNamespace(ds=f"{ds}/{s}")) for s in test_scales(wildcards)}
        out += [f"results/{ds}/{s}/{name}" for s in test_scales(wildcards) for name in names
                if name == "all" or labelled[s]]  # an unlabelled scale: its summary, no scores
        if all(labelled.values()):  # the scale table compares scores
            out.append(f"results/{ds}/scales.tsv")
    return out
