# Input functions of GCN-D's rules (method_gcnd.smk), and GCN-D's cost in the comparison.
import ltc.methods.gcnd


def gcnd_settings(wildcards):
    return method_settings(wildcards, "gcnd")


def gcnd_super_vertex(wildcards):
    """The dataset's second-iteration settings [base_k, base_th, k, sv_maxsz] (methods.gcnd.super_vertex),
    after GCN-D's settings are checked (ltc.methods.gcnd.check: a bad one stops with one sentence)."""
    try:
        ltc.methods.gcnd.check(method_params(wildcards, "gcnd"))
    except ltc.DataError as err:
        stop(str(err))
    return gcnd_settings(wildcards)["super_vertex"]


def gcnd_th_name(th):
    """A proposal threshold as it appears in file names (and is read back by the rule): 0.6, 0.65, or a
    derived one as it is written (q0.8, r0.5)."""
    return th if isinstance(th, str) else repr(float(th))


def gcnd_derived_options(wildcards):
    """``--k ... --th ...`` of the dataset's derived proposal thresholds (q0.8, r0.5), of methods.gcnd.proposals
    and of the bases of methods.gcnd.super_vertex, each pair once, for thresholds_gcnd."""
    bases = [(k, th) for k, th, *_ in gcnd_super_vertex(wildcards)]
    pairs = list(dict.fromkeys((int(k), th) for k, th in gcnd_settings(wildcards)["proposals"] + bases
                               if isinstance(th, str)))
    if not pairs:
        stop(f"dataset '{wildcards.ds}' has no derived threshold in methods.gcnd.proposals or super_vertex (such as "
             f"'q0.8'): nothing to derive.")
    return f"--k {' '.join(str(k) for k, _ in pairs)} --th {' '.join(th for _, th in pairs)}"


def gcnd_thresholds(wildcards):
    """The threshold file a proposal set of a derived th (q0.8, r0.5) reads: the one of the dataset that
    learns (its train split, or a test scale's base), or of methods.gcnd.model_from's for a dataset
    without a train split; none for a numeric th."""
    if wildcards.pth[:1] not in ("q", "r"):
        return []
    ds = learner(wildcards).ds
    if "train" not in config["datasets"][ds]:
        source = gcnd_settings(types.SimpleNamespace(ds=ds)).get("model_from")
        if not source:
            stop(
                f"dataset '{wildcards.ds}' has no train split to derive the proposal threshold {wildcards.pth} from: "
                f"give methods.gcnd.proposals numeric thresholds, or methods.gcnd.model_from a dataset with a train split."
            )
        ds = source
    return f"results/{ds}/gcnd/thresholds.json"


def gcnd_proposals(wildcards, split):
    """The proposal files of a split, one per [k, th] pair of methods.gcnd.proposals, in that order, then
    one per [base_k, base_th, k, sv_maxsz] entry of methods.gcnd.super_vertex (the second iteration), in
    that order (the train split's are the learner's: a test scale's base dataset)."""
    ds = learner(wildcards).ds if split == "train" else wildcards.ds
    source = types.SimpleNamespace(ds=ds)
    gcnd = method_settings(source, "gcnd")  # pairs unique, by the schema
    folder = f"results/{ds}/gcnd/{split}/proposals"
    return [f"{folder}/k_{int(k)}_th_{gcnd_th_name(th)}.npz" for k, th in gcnd["proposals"]] + [
        f"{folder}/sv_k_{int(k)}_maxsz_{int(sv_maxsz)}_of_k_{int(base_k)}_th_{gcnd_th_name(base_th)}.npz"
        for base_k, base_th, k, sv_maxsz in gcnd_super_vertex(source)]


def gcnd_model(wildcards):
    """The GCN-D checkpoint a dataset uses: a given file or zoo model (checkpoint_file), another dataset's
    model, or its own trained one."""
    wildcards = learner(wildcards)
    gcnd = gcnd_settings(wildcards)
    if gcnd.get("checkpoint"):
        return checkpoint_file(gcnd["checkpoint"], f"methods.gcnd.checkpoint of dataset '{wildcards.ds}'")
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


def gcns_settings(wildcards):
    return gcnd_settings(wildcards)["segment"]


def gcns_model(wildcards):
    """The GCN-S checkpoint a dataset uses: a given file, methods.gcnd.model_from's, or its own trained one."""
    wildcards = learner(wildcards)
    if gcns_settings(wildcards).get("checkpoint"):
        return checkpoint_file(gcns_settings(wildcards)["checkpoint"],
                               f"methods.gcnd.segment.checkpoint of dataset '{wildcards.ds}'")
    own = gcnd_model(wildcards)  # GCN-D's source (it stops with one sentence where there is none)
    source = gcnd_settings(wildcards).get("model_from")
    if source and own == f"results/{source}/gcnd/model.pt":
        return f"results/{source}/gcnd/gcns/model.pt"
    if "train" not in config["datasets"][wildcards.ds]:
        stop(
            f"dataset '{wildcards.ds}' has no train split to train GCN-S on: set methods.gcnd.segment.checkpoint "
            f"(a trained model) or methods.gcnd.model_from (a dataset with a train split) for it."
        )
    return f"results/{wildcards.ds}/gcnd/gcns/model.pt"


def gcns_keep(wildcards):
    """GCN-S's probabilities of the test proposals' members, when methods.gcnd.segment is enabled."""
    return f"results/{wildcards.ds}/gcnd/test/keep.npy" if gcns_settings(wildcards)["enabled"] else []


def gcns_options(wildcards):
    """The de-overlap's GCN-S options (how its probabilities clean the proposals), when enabled (a
    function of the settings only, not of the rule's input: Snakemake's params trigger then sees them)."""
    seg = gcns_settings(wildcards)
    if not seg["enabled"]:
        return ""
    lo, hi = seg["apply_iop"]
    return (f"--keep {gcns_keep(wildcards)} --apply-iop {lo} {hi} --th-outlier {seg['th_outlier']}"
            f" --keep-outlier {str(bool(seg['keep_outlier'])).lower()}")


def gcnd_scores(wildcards, split):
    """A split's proposal scores the de-overlap orders by: GCN-D's (score: model) or the true IoU (score: gt)."""
    name = "scores" if gcnd_settings(wildcards)["score"] == "model" else "true_scores"
    return f"results/{wildcards.ds}/gcnd/{split}/{name}.npy"


def gcnd_cost(wildcards):
    """GCN-D's steps: the test proposals, scoring, de-overlap, and (its own model) the train proposals and training."""
    scoring = "infer_gcnd" if gcnd_settings(wildcards)["score"] == "model" else "truth_gcnd"
    proposal_rules = ["proposals_gcnd"] + (["proposals_gcnd_sv"] if gcnd_super_vertex(wildcards) else [])
    steps = [benchmark_stem(name, wildcards, split="test") for name in proposal_rules]
    steps += [benchmark_stem(scoring, wildcards, split="test"), benchmark_stem("deoverlap_gcnd", wildcards)]
    th_pos_here = chosen_threshold(wildcards, "gcnd") == f"results/{wildcards.ds}/gcnd/threshold.json"
    if th_pos_here:  # th_pos chosen on this dataset's train proposals
        steps += [benchmark_stem(scoring, wildcards, split="train"), benchmark_stem("select_threshold_gcnd", wildcards)]
    own_model = scoring == "infer_gcnd" and gcnd_model(wildcards) == f"results/{wildcards.ds}/gcnd/model.pt"
    if own_model or th_pos_here:
        steps += [benchmark_stem(name, wildcards, split="train") for name in proposal_rules]
    if own_model:
        steps.append(benchmark_stem("train_gcnd", wildcards))
    ths = [th for _, th in gcnd_settings(wildcards)["proposals"]] + [th for _, th, *_ in gcnd_super_vertex(wildcards)]
    if any(isinstance(th, str) for th in ths) and "train" in config["datasets"][wildcards.ds]:
        steps.append(benchmark_stem("thresholds_gcnd", wildcards))
    if gcns_settings(wildcards)["enabled"]:
        steps.append(benchmark_stem("infer_gcns", wildcards))
        if gcns_model(wildcards) == f"results/{wildcards.ds}/gcnd/gcns/model.pt":
            steps.append(benchmark_stem("train_gcns", wildcards))
    return steps


register_cost("gcnd", gcnd_cost)
