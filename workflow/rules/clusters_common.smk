# Input and params functions of workflow/rules/clusters.smk.
import shlex
import types


def item_confidence(wildcards):
    """The per-item confidence file of a method's test split, if its rules register one (register_confidence)."""
    if wildcards.method not in CONFIDENCES:
        return {}
    return {"confidence": CONFIDENCES[wildcards.method](types.SimpleNamespace(ds=wildcards.ds, split="test"))}


def clusters_inputs(wildcards):
    """pred_labels.meta, the test split's ids file (datasets.<ds>.test.ids) if set, and the confidences."""
    out = {"pred": f"results/{wildcards.ds}/{wildcards.method}/pred_labels.meta", **item_confidence(wildcards)}
    ids = split_of(wildcards, "test").ids
    if ids:
        out["ids"] = existing_or_produced(ids, wildcards.ds, "Id")
    return out


def clusters_options(wildcards, input):
    """clusters.py's --ids (with the config key that names it) and --confidence options."""
    out = []
    if "ids" in input.keys():
        out += ["--ids", input.ids, "--ids-setting", f"{config_key(wildcards.ds)}.test.ids"]
    if "confidence" in input.keys():
        out += ["--confidence", input.confidence]
    return " ".join(map(shlex.quote, out))


def test_is_labelled(wildcards):
    """Whether a dataset's test split has labels (an unlabelled one gets a summary, not a comparison)."""
    return bool(split_of(wildcards, "test").labels)


def summary_options(wildcards):
    """summary.py's options from the methods' registrations: each compared method's cost steps
    (register_cost) and the shared kNN graph's benchmark stems (as the comparison counts them)."""
    methods = compare_methods(wildcards)
    return f"--methods {' '.join(methods)} --all-methods {' '.join(config['methods'])} {cost_options(wildcards, methods)}"
