# Input and params functions of the incremental-clustering rules (assign.smk): the new faces of
# datasets.<ds>.new, the rule and threshold a method's assignment follows (ltc.incremental).
import ltc.incremental


def new_spec(wildcards):
    """datasets.<ds>.new, or stop with a sentence saying how to add new faces."""
    spec = config["datasets"][wildcards.ds].get("new")
    if not spec:
        stop(
            f"dataset '{wildcards.ds}' has no new faces to assign: set {config_key(wildcards.ds)}.new.features to "
            f"their feature file (and optionally new.labels, new.ids) in the config."
        )
    return spec


def assign_settings(wildcards):
    """The assignment settings (ltc.incremental.Settings' defaults, datasets.<ds>.new's values)."""
    spec = new_spec(wildcards)
    return {name: spec.get(name, getattr(ltc.incremental.DEFAULTS, name)) for name in ("threshold", "merge", "holdout", "seed")}


def new_inputs(wildcards):
    """The new faces' features and, if given, their labels (what validate_new checks)."""
    spec = new_spec(wildcards)
    files = {"features": existing_or_produced(spec["features"], wildcards.ds, "New feature")}
    if spec.get("labels"):
        files["labels"] = existing_or_produced(spec["labels"], wildcards.ds, "New label")
    return files


def new_labels(wildcards):
    spec = new_spec(wildcards)
    if not spec.get("labels"):
        stop(
            f"dataset '{wildcards.ds}' gives its new faces no labels, so their assignment has no scores: set "
            f"{config_key(wildcards.ds)}.new.labels, or ask for results/{wildcards.ds}/<method>/assigned/pred_labels.meta."
        )
    return existing_or_produced(spec["labels"], wildcards.ds, "New label")


def method_link_rule(wildcards):
    """The method's linking rule (ltc.incremental.link_rule) or None (then the nearest cluster is taken)."""
    return ltc.incremental.link_rule(wildcards.method, method_settings(wildcards, wildcards.method))


def assign_threshold(wildcards):
    """The nearest-cluster threshold: a number from datasets.<ds>.new.threshold, or the file choosing it."""
    value = assign_settings(wildcards)["threshold"]
    if value != "auto":
        return value
    train_labels(learner(wildcards))  # a labelled train split, or stop with the sentence that says so
    return f"results/{learner(wildcards).ds}/assign/threshold.json"


def assign_inputs(wildcards):
    """The clustered split, the new faces, the run's labels, its saved index and the threshold's file."""
    knn = knn_settings(wildcards)
    out = {
        "features": split_inputs(types.SimpleNamespace(ds=wildcards.ds, split="test"))["features"],
        "summary": f"results/{wildcards.ds}/validate/test.json",
        "new": new_inputs(wildcards)["features"],
        "new_summary": f"results/{wildcards.ds}/validate/new.json",
        "pred": f"results/{wildcards.ds}/{wildcards.method}/pred_labels.meta",
    }
    if knn["method"] != "flat":
        out["index"] = f"results/{wildcards.ds}/knn/test/{FILE_TAG[knn['method']]}.index"
    if new_spec(wildcards).get("ids"):
        out["ids"] = existing_or_produced(new_spec(wildcards)["ids"], wildcards.ds, "Id")
    threshold = threshold_file(wildcards, wildcards.method) if method_link_rule(wildcards) else assign_threshold(wildcards)
    if isinstance(threshold, str):
        out["threshold"] = threshold
    elif isinstance(threshold, list) and threshold:
        out["threshold"] = threshold[0]
    return out


def assign_options(wildcards, input):
    """assign.py's options: the method, its settings, the threshold, k and the search, merge, ids."""
    knn = knn_settings(wildcards)
    opts = [
        "--method", wildcards.method, "--settings", settings_json(wildcards, wildcards.method),
        "--k", str(knn_k(wildcards, "test")), "--knn-method", knn["method"], "--batch-size", str(knn["batch_size"]),
    ]
    if "threshold" in input.keys():
        opts += ["--threshold-file", input.threshold]
    elif method_link_rule(wildcards):
        opts += ["--threshold-value", str(chosen_threshold(wildcards, wildcards.method))]
    else:
        opts += ["--threshold-value", str(assign_threshold(wildcards))]
    if "index" in input.keys():
        opts += ["--index", input.index]
    if "ids" in input.keys():
        opts += ["--ids", input.ids, "--ids-setting", f"{config_key(wildcards.ds)}.new.ids"]
    if assign_settings(wildcards)["merge"]:
        opts.append("--merge")
    return " ".join(map(shlex.quote, opts))


def assigned_test_labels(wildcards):
    """The test split's labels, when it has some: the union of old and new faces is then scored too."""
    s = split_of(wildcards, "test")
    return {"labels": existing_or_produced(s.labels, wildcards.ds, "Label")} if s.labels else {}
