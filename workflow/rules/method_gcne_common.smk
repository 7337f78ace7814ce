# Input functions of GCN-E's rules (method_gcne.smk), and GCN-E's cost in the comparison.


def gcne_settings(wildcards):
    return method_settings(wildcards, "gcne")


def gcne_knn(wildcards, split=None):
    """kNN (k from methods.gcne) of GCN-V's hidden features, on which GCN-E builds its subgraphs."""
    return knn_path(wildcards, GCN_FEATURES, split or wildcards.split, gcne_settings(wildcards)["k"])  # knn.smk


def gcne_model(wildcards):
    """The GCN-E checkpoint a dataset uses: a given file or zoo model (checkpoint_file), another dataset's
    model, or its own trained one."""
    wildcards = learner(wildcards)
    if gcne_settings(wildcards).get("checkpoint"):
        return checkpoint_file(gcne_settings(wildcards)["checkpoint"], f"methods.gcne.checkpoint of dataset '{wildcards.ds}'")
    source = gcne_settings(wildcards).get("model_from") or wildcards.ds
    if source not in config["datasets"] or "train" not in config["datasets"][source]:
        stop(
            f"GCN-E for dataset '{wildcards.ds}' needs a dataset with a train split to learn from: "
            f"add a train split or set methods.gcne.model_from to such a dataset."
        )
    return f"results/{source}/gcne/model.pt"


def gcne_cost(wildcards):
    """GCN-E's steps: GCN-V's stages it builds on, the kNN of GCN-V's hidden features, its training (if
    this dataset trains its own model), links, threshold sweep (if chosen here) and clustering."""
    own = gcne_model(wildcards) == f"results/{wildcards.ds}/gcne/model.pt"
    steps = gcnv_stages(wildcards, hidden=True) + knn_steps(wildcards, GCN_FEATURES, "*", gcne_settings(wildcards)["k"])
    steps += [benchmark_stem("train_gcne", wildcards)] * own + [benchmark_stem("links_gcne", wildcards)]
    return steps + own_steps(wildcards, "gcne", "cluster_links", "select_threshold_links", lmethod="gcne")


register_cost("gcne", gcne_cost)
register_confidence("gcne", lambda wc: f"results/{wc.ds}/gcnv/{wc.split}/hidden/confidence.npy")  # GCN-V's, which it links on
