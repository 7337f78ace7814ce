# Input functions of reattach.smk: the `reattach` settings (datasets.<ds>.reattach overrides the global
# ones), the threshold (a number or, `auto`, the file choosing it on the labelled train split), the
# comparison rows <method>+reattach and their cost.
import shlex

REATTACH_SUFFIX = "+reattach"  # results/<ds>/<method>+reattach/: a method's clustering, its singletons re-attached


def reattach_settings(wildcards):
    return ltc.datasets.settings(config, wildcards.ds, "reattach")


def with_reattached(wildcards, methods):
    """``methods`` with ``<method>+reattach`` after each one that reattach.methods lists."""
    listed = set(reattach_settings(wildcards)["methods"])
    return [name for m in methods for name in ([m, m + REATTACH_SUFFIX] if m in listed else [m])]


def reattach_threshold(wildcards):
    """reattach.threshold: a number, or (auto) the learner's threshold.json chosen on its labelled train split."""
    value = reattach_settings(wildcards)["threshold"]
    if value != "auto":
        return float(value)
    learned = learner(wildcards)
    if "train" in config["datasets"][learned.ds] and split_of(learned, "train").labels:
        return f"results/{learned.ds}/reattach/threshold.json"
    stop(
        f"dataset '{wildcards.ds}' has no labelled train split to choose reattach.threshold on (it is 'auto'): "
        f"give it a number, {config_key(wildcards.ds)}.reattach.threshold: <cosine>, or add a labelled train split."
    )


def reattach_threshold_file(wildcards):
    value = reattach_threshold(wildcards)
    return [value] if isinstance(value, str) else []


def reattach_threshold_option(wildcards):
    value = reattach_threshold(wildcards)
    return f"--threshold-file {shlex.quote(value)}" if isinstance(value, str) else f"--threshold-value {value}"


def reattach_steps(wildcards, method):
    """The cost of <method>+reattach: the method's own steps, the re-attachment and, where the threshold
    is chosen on this dataset's own train split, that choice."""
    steps = COSTS[method](wildcards) + [benchmark_stem("reattach", wildcards, rmethod=method)]
    if reattach_threshold_file(wildcards) == [f"results/{wildcards.ds}/reattach/threshold.json"]:
        steps.append(benchmark_stem("select_threshold_reattach", wildcards))
    return steps


for _name in config["methods"]:
    register_cost(_name + REATTACH_SUFFIX, lambda wc, name=_name: reattach_steps(wc, name))
