# Input functions of the baseline rules (workflow/rules/method_baselines.smk).
import json

import ltc.methods.registry

BASELINES = ltc.methods.registry.methods("baseline")  # the methods these rules run
for _name in BASELINES:  # each method's cost: its clustering and, if chosen here, its threshold sweep
    register_cost(
        _name, lambda wc, name=_name: own_steps(wc, name, "cluster_baseline", "select_threshold_baseline", baseline=name)
    )


def baseline_settings(wc):
    return method_settings(wc, wc.baseline)


def baseline_package(wc, script_name):
    """The package files a baseline's script runs, its method's module (loaded by name by the registry)
    and what that imports included, as inputs: editing another method's module reruns nothing here."""
    return package(script_name, f"methods/{wc.baseline}.py")


def split_features(wc, split):
    return existing_or_produced(split_of(wc, split).features, wc.ds, "Feature")


def true_count_labels(wc):
    """The test labels whose identity count is `n_clusters: auto`."""
    labels = split_of(wc, "test").labels
    if not labels:
        stop(
            f"dataset '{wc.ds}' has an unlabelled test split, so methods.{wc.baseline}.n_clusters: auto "
            f"(the true identity count) is unknown: give methods.{wc.baseline}.n_clusters a number for it."
        )
    return existing_or_produced(labels, wc.ds, "Label")


def baseline_inputs(wc):
    """What a baseline reads on the test split: kNN graph and/or features, true labels for
    `n_clusters: auto`, the threshold file for a threshold chosen on train."""
    spec, settings = BASELINES[wc.baseline], baseline_settings(wc)
    use_knn, use_features = spec.needs(method_params(wc, wc.baseline))
    files = {}
    if use_knn:
        files["knn"] = test_knn(wc)
    if use_features:
        files["features"] = split_features(wc, "test")
    if spec.n_clusters and settings.get("n_clusters") == "auto":
        files["labels"] = true_count_labels(wc)
    files["threshold"] = threshold_file(wc, wc.baseline)
    return files


def baseline_options(wc, input):
    """Command-line options naming the inputs, the feature width and the threshold."""
    opts = [f"--{key} {input[key]}" for key in ("knn", "features", "labels") if key in input.keys()]
    if "labels" in input.keys():
        opts.append(truth_noise(wc))
    if "features" in input.keys():
        opts.append(f"--dim {config['datasets'][wc.ds]['dim']}")
    if threshold_name(wc, wc.baseline):
        opts.append(threshold_option(wc, wc.baseline))
    return " ".join(opts)


def sweep_inputs(wc):
    use_knn, use_features = BASELINES[wc.baseline].needs(method_params(wc, wc.baseline), sweep=True)
    files = {"labels": train_labels(wc)}
    if use_knn:
        files["knn"] = knn_file(wc, "train")
    if use_features:
        files["features"] = split_features(wc, "train")
    return files


def sweep_options(wc, input):
    """Command-line options naming the train split's inputs of a threshold sweep."""
    opts = [f"--knn {input.knn}"] if "knn" in input.keys() else []
    if "features" in input.keys():
        opts.append(f"--features {input.features} --dim {config['datasets'][wc.ds]['dim']}")
    return " ".join(opts)
