# Input functions of GCN-E's rules (method_gcne.smk).


def gcne_settings(wildcards):
    return method_settings(wildcards, "gcne")


def gcne_knn(wildcards, split=None):
    """kNN (k from methods.gcne) of GCN-V's hidden features, on which GCN-E builds its subgraphs."""
    split = split or wildcards.split
    tag = FILE_TAG[knn_settings(wildcards)["method"]]
    return f"results/{wildcards.ds}/gcnv/{split}/gcn_{tag}_k_{gcne_settings(wildcards)['k']}.npz"


def gcne_model(wildcards):
    wildcards = learner(wildcards)
    source = gcne_settings(wildcards).get("model_from") or wildcards.ds
    if source not in config["datasets"] or "train" not in config["datasets"][source]:
        stop(
            f"GCN-E for dataset '{wildcards.ds}' needs a dataset with a train split to learn from: "
            f"add a train split or set methods.gcne.model_from to such a dataset."
        )
    return f"results/{source}/gcne/model.pt"
