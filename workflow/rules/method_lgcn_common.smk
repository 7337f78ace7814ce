# Input functions of L-GCN's rules (method_lgcn.smk), and L-GCN's cost in the comparison.


def lgcn_settings(wildcards):
    return method_settings(wildcards, "lgcn")


def lgcn_hops(wildcards):
    """methods.lgcn.k_at_hop as the JSON the scripts take, quoted for the shell."""
    return shlex.quote(json.dumps(lgcn_settings(wildcards)["k_at_hop"]))


def lgcn_model(wildcards):
    """The L-GCN checkpoint a dataset uses: a given file, another dataset's model, or its own trained one."""
    wildcards = learner(wildcards)
    settings = lgcn_settings(wildcards)
    if settings.get("checkpoint"):
        return checkpoint_file(settings["checkpoint"], f"methods.lgcn.checkpoint of dataset '{wildcards.ds}'")
    if settings.get("model_from"):
        if settings["model_from"] not in config["datasets"]:
            stop(
                f"methods.lgcn.model_from of dataset '{wildcards.ds}' names '{settings['model_from']}', "
                f"which is not a configured dataset: name one with a train split."
            )
        return f"results/{settings['model_from']}/lgcn/model.pt"
    if "train" not in config["datasets"][wildcards.ds]:
        stop(
            f"dataset '{wildcards.ds}' has no train split to train L-GCN on: set methods.lgcn.checkpoint "
            f"(a trained model) or methods.lgcn.model_from (a dataset with a train split) for it."
        )
    return f"results/{wildcards.ds}/lgcn/model.pt"


def lgcn_cost(wildcards):
    """L-GCN's steps: the test links, clustering, the train links and threshold sweep (if th is chosen
    here) and training (if this dataset trains its own model)."""
    own_sweep = threshold_file(wildcards, "lgcn") == [f"results/{wildcards.ds}/lgcn/threshold.json"]
    steps = [benchmark_stem("links_lgcn", wildcards, split="test")]
    steps += own_steps(wildcards, "lgcn", "cluster_lgcn", "select_threshold_lgcn")
    if own_sweep:
        steps.append(benchmark_stem("links_lgcn", wildcards, split="train"))
    if lgcn_model(wildcards) == f"results/{wildcards.ds}/lgcn/model.pt":
        steps.append(benchmark_stem("train_lgcn", wildcards))
    return steps


register_cost("lgcn", lgcn_cost)
