# Input functions of GCN-V's rules (method_gcnv.smk) and of the link rules' GCN-V jobs; GCN-V's hidden
# features as a feature set of the kNN rules, and GCN-V's cost in the comparison.

GCN_FEATURES = "knn_gcn_features"  # the kNN folder of GCN-V's hidden features (knn.smk)


def gcnv_settings(wildcards):
    return method_settings(wildcards, "gcnv")


def gcnv_model(wildcards):
    """The GCN-V checkpoint a dataset uses: a given file or zoo model (checkpoint_file), another dataset's
    model, or its own trained one."""
    wildcards = learner(wildcards)
    gcnv = gcnv_settings(wildcards)
    if gcnv.get("checkpoint"):
        return checkpoint_file(gcnv["checkpoint"], f"methods.gcnv.checkpoint of dataset '{wildcards.ds}'")
    if gcnv.get("model_from"):
        if gcnv["model_from"] not in config["datasets"]:
            stop(
                f"methods.gcnv.model_from of dataset '{wildcards.ds}' names '{gcnv['model_from']}', "
                f"which is not a configured dataset: name one with a train split."
            )
        return f"results/{gcnv['model_from']}/gcnv/model.pt"
    if "train" not in config["datasets"][wildcards.ds]:
        stop(
            f"dataset '{wildcards.ds}' has no train split to train GCN-V on: set methods.gcnv.checkpoint "
            f"(a trained model) or methods.gcnv.model_from (a dataset with a train split) for it."
        )
    return f"results/{wildcards.ds}/gcnv/model.pt"


def gcnv_link_knn(wildcards, split=None):
    split = split or wildcards.split
    if gcnv_settings(wildcards)["use_gcn_feat"]:  # the kNN of its hidden features (knn.smk)
        return knn_path(wildcards, GCN_FEATURES, split, knn_settings(wildcards)["k"])
    return knn_file(wildcards, split)


def gcnv_link_confidence(wildcards):
    """The confidences GCN-V links with: with use_gcn_feat those of the inference that also wrote the
    hidden features it links on (the same values), else those of the inference that writes none."""
    folder = "hidden/" if gcnv_settings(wildcards)["use_gcn_feat"] else ""
    return f"results/{wildcards.ds}/gcnv/{wildcards.split}/{folder}confidence.npy"


def gcn_features(wildcards):
    """The kNN rules' inputs for GCN-V's hidden features of a split (N x methods.gcnv.nhid, .npy)."""
    return {"features": f"results/{wildcards.ds}/gcnv/{wildcards.split}/gcn_features.npy"}


def gcnv_stages(wildcards, hidden):
    """Benchmark stems of GCN-V's training (if this dataset trains its own model) and inference (the one
    that writes the hidden features too, if ``hidden``)."""
    own = gcnv_model(wildcards) == f"results/{wildcards.ds}/gcnv/model.pt"
    infer = benchmark_stem("infer_gcnv_hidden" if hidden else "infer_gcnv", wildcards)
    return [benchmark_stem("train_gcnv", wildcards)] * own + [infer]


def gcnv_cost(wildcards):
    """GCN-V's steps: its stages, links, threshold sweep (if chosen here) and clustering, and with
    use_gcn_feat the kNN of its hidden features."""
    steps = gcnv_stages(wildcards, gcnv_settings(wildcards)["use_gcn_feat"]) + [benchmark_stem("links_gcnv", wildcards)]
    steps += own_steps(wildcards, "gcnv", "cluster_links", "select_threshold_links", lmethod="gcnv")
    if gcnv_settings(wildcards)["use_gcn_feat"]:
        steps += knn_steps(wildcards, GCN_FEATURES, "*", knn_settings(wildcards)["k"])
    return steps


register_feature_set(GCN_FEATURES, gcn_features, lambda wc: gcnv_settings(wc)["nhid"])
register_cost("gcnv", gcnv_cost)
register_confidence("gcnv", gcnv_link_confidence)
