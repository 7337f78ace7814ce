# Input functions of GCN-V's rules (method_gcnv.smk) and of the link rules' GCN-V jobs.


def gcnv_settings(wildcards):
    return method_settings(wildcards, "gcnv")


def gcnv_model(wildcards):
    """The GCN-V checkpoint a dataset uses: a given file, another dataset's model, or its own trained one."""
    wildcards = learner(wildcards)
    gcnv = gcnv_settings(wildcards)
    if gcnv.get("checkpoint"):
        return gcnv["checkpoint"]
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


def link_threshold_name(wildcards):
    """GCN-V links on the input kNN with tau_0, or on the kNN of its GCN features with tau; GCN-E with tau."""
    if wildcards.lmethod == "gcnv" and not gcnv_settings(wildcards)["use_gcn_feat"]:
        return "tau_0"
    return "tau"


def gcnv_link_knn(wildcards, split=None):
    split = split or wildcards.split
    if gcnv_settings(wildcards)["use_gcn_feat"]:
        knn = knn_settings(wildcards)
        return f"results/{wildcards.ds}/gcnv/{split}/gcn_{FILE_TAG[knn['method']]}_k_{knn['k']}.npz"
    return knn_file(wildcards, split)
