# Input functions of GCN-D's rules (method_gcnd.smk), and GCN-D's cost in the comparison.


def gcnd_settings(wildcards):
    return method_settings(wildcards, "gcnd")


def gcnd_th_name(th):
    """A proposal threshold as it appears in file names (and is read back by the rule): 0.6, 0.65."""
    return repr(float(th))


def gcnd_proposals(wildcards, split):
    """The proposal files of a split, one per [k, th] pair of methods.gcnd.proposals, in that order
    (the train split's are the learner's: a test scale's base dataset)."""
    ds = learner(wildcards).ds if split == "train" else wildcards.ds
    gcnd = method_settings(types.SimpleNamespace(ds=ds), "gcnd")  # pairs unique, by the schema
    return [f"results/{ds}/gcnd/{split}/proposals/k_{int(k)}_th_{gcnd_th_name(th)}.npz" for k, th in gcnd["proposals"]]


def gcnd_model(wildcards):
    """The GCN-D checkpoint a dataset uses: a given file, another dataset's model, or its own trained one."""
    wildcards = learner(wildcards)
    gcnd = gcnd_settings(wildcards)
    if gcnd.get("checkpoint"):
        return gcnd["checkpoint"]
    if gcnd.get("model_from"):
        if gcnd["model_from"] not in config["datasets"]:
            stop(
                f"methods.gcnd.model_from of dataset '{wildcards.ds}' names '{gcnd['model_from']}', "
                f"which is not a configured dataset: name one with a train split."
            )
        return f"results/{gcnd['model_from']}/gcnd/model.pt"
    if "train" not in config["datasets"][wildcards.ds]:
        stop(
            f"dataset '{wildcards.ds}' has no train split to train GCN-D on: set methods.gcnd.checkpoint "
            f"(a trained model) or methods.gcnd.model_from (a dataset with a train split) for it."
        )
    return f"results/{wildcards.ds}/gcnd/model.pt"


def gcnd_scores(wildcards):
    """The test proposals' scores the de-overlap orders by: GCN-D's (score: model) or the true IoU (score: gt)."""
    name = "scores" if gcnd_settings(wildcards)["score"] == "model" else "true_scores"
    return f"results/{wildcards.ds}/gcnd/test/{name}.npy"


def gcnd_cost(wildcards):
    """GCN-D's steps: the test proposals, scoring, de-overlap, and (its own model) the train proposals and training."""
    scoring = "infer_gcnd" if gcnd_settings(wildcards)["score"] == "model" else "truth_gcnd"
    steps = [benchmark_stem("proposals_gcnd", wildcards, split="test"), benchmark_stem(scoring, wildcards),
             benchmark_stem("deoverlap_gcnd", wildcards)]
    if scoring == "infer_gcnd" and gcnd_model(wildcards) == f"results/{wildcards.ds}/gcnd/model.pt":
        steps += [benchmark_stem("proposals_gcnd", wildcards, split="train"), benchmark_stem("train_gcnd", wildcards)]
    return steps


register_cost("gcnd", gcnd_cost)
