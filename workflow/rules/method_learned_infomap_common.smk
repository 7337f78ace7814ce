# Input functions of learned_infomap's rules (method_learned_infomap.smk), and its cost in the comparison.


def learned_infomap_settings(wildcards):
    return method_settings(wildcards, "learned_infomap")


def learned_infomap_graph_options(wildcards):
    """The feature settings (k, shared_k, top) as script options."""
    s = learned_infomap_settings(wildcards)
    return f"--k {s['k']} --shared-k {s['shared_k']} --top {s['top']}"


def learned_infomap_train_options(wildcards, folds=False):
    """The classifier's settings (methods.learned_infomap.train) as script options; ``folds`` only for
    the out-of-fold sweep (the final fit has none)."""
    train = learned_infomap_settings(wildcards)["train"]
    keys = [key for key in train if folds or key != "folds"]
    return " ".join(f"--{key.replace('_', '-')} {train[key]}" for key in keys)


def learned_infomap_infomap_options(wildcards):
    """Infomap's settings (methods.learned_infomap.infomap) as script options."""
    i = learned_infomap_settings(wildcards)["infomap"]
    return f"--{'' if i['directed'] else 'no-'}directed --infomap-seed {i['seed']} --trials {i['trials']}"


def learned_infomap_model(wildcards):
    """The link classifier a dataset uses: a given file, another dataset's model, or its own trained one."""
    wildcards = learner(wildcards)
    settings = learned_infomap_settings(wildcards)
    if settings.get("checkpoint"):
        return settings["checkpoint"]
    if settings.get("model_from"):
        if settings["model_from"] not in config["datasets"]:
            stop(
                f"methods.learned_infomap.model_from of dataset '{wildcards.ds}' names '{settings['model_from']}', "
                f"which is not a configured dataset: name one with a train split."
            )
        return f"results/{settings['model_from']}/learned_infomap/model.pkl"
    if "train" not in config["datasets"][wildcards.ds]:
        stop(
            f"dataset '{wildcards.ds}' has no train split to train learned_infomap's link classifier on: set "
            f"methods.learned_infomap.checkpoint (a trained model.pkl) or methods.learned_infomap.model_from "
            f"(a dataset with a train split) for it."
        )
    return f"results/{wildcards.ds}/learned_infomap/model.pkl"


def learned_infomap_cost(wildcards):
    """learned_infomap's steps: clustering, the out-of-fold sweep (if min_prob is chosen here) and
    training (if this dataset trains its own classifier)."""
    steps = own_steps(wildcards, "learned_infomap", "cluster_learned_infomap", "select_threshold_learned_infomap")
    if learned_infomap_model(wildcards) == f"results/{wildcards.ds}/learned_infomap/model.pkl":
        steps.append(benchmark_stem("train_learned_infomap", wildcards))
    return steps


register_cost("learned_infomap", learned_infomap_cost)
