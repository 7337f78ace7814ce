# GCN-V (Yang et al., CVPR 2020): train on the labelled train split, predict vertex confidences,
# link each vertex to its nearest more-confident neighbour (optionally on the kNN of the GCN's hidden
# features); link_clustering.smk keeps the links above a threshold and takes components.


include: "method_gcnv_common.smk"


rule train_gcnv:
    input:
        features=lambda wc: split_of(wc, "train").features,
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("train_gcnv.py"),
        package=package("train_gcnv.py"),
    output:
        model="results/{ds}/gcnv/model.pt",
        curve="results/{ds}/gcnv/train_curve.tsv",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        th_sim=lambda wc: gcnv_settings(wc)["th_sim"],
        nhid=lambda wc: gcnv_settings(wc)["nhid"],
        train=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in gcnv_settings(wc)["train"].items()),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_gcnv.log",
    benchmark:
        "results/{ds}/benchmarks/train_gcnv.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(8 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=lambda wc: gcnv_settings(wc)["gpus"],
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --labels {input.labels} {params.noise}"
        " --knn {input.knn} --th-sim {params.th_sim} --nhid {params.nhid} {params.train}"
        " --threads {threads} --out {output.model} --curve {output.curve} --log {log}"


rule infer_gcnv:
    input:
        model=gcnv_model,
        features=lambda wc: split_of(wc).features,
        knn=knn_file,
        summary="results/{ds}/validate/{split}.json",
        script=script("infer_gcnv.py"),
        package=package("infer_gcnv.py"),
    output:
        confidence="results/{ds}/gcnv/{split}/confidence.npy",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        th_sim=lambda wc: gcnv_settings(wc)["th_sim"],
        device=lambda wc: gcnv_settings(wc)["train"]["device"],
        hidden=lambda wc, output: f"--gcn-features {output.gcn_features}" if "gcn_features" in output.keys() else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/infer_gcnv_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/infer_gcnv_{split}.tsv"
    threads: 8
    resources:
        # graph and features held once; [X, AX] and the hidden features go by row blocks
        mem_mb=lambda wc, input, attempt: attempt * (int(1.2 * input.size_mb) + 2000),
    shell:
        "python {input.script} --model {input.model} --features {input.features} --dim {params.dim}"
        " --knn {input.knn} --th-sim {params.th_sim} --device {params.device} --threads {threads}"
        " --confidence {output.confidence} {params.hidden} --log {log}"


# The same inference writing the hidden features too (N x nhid float32: 1.2 GB at 584K x 512), only
# where they are read: GCN-E, and GCN-V's links with use_gcn_feat.
use rule infer_gcnv as infer_gcnv_hidden with:
    output:
        confidence="results/{ds}/gcnv/{split}/hidden/confidence.npy",
        gcn_features="results/{ds}/gcnv/{split}/gcn_features.npy",
    log:
        "results/{ds}/logs/gcnv_hidden_features_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/gcnv_hidden_features_{split}.tsv"


rule links_gcnv:
    input:
        confidence=gcnv_link_confidence,
        knn=gcnv_link_knn,
        script=script("links_gcnv.py"),
        package=package("links_gcnv.py"),
    output:
        "results/{ds}/gcnv/{split}/links.npz",
    conda:
        ENV
    log:
        "results/{ds}/logs/links_gcnv_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/links_gcnv_{split}.tsv"
    threads: 1
    resources:
        # the kNN file is streamed
        mem_mb=lambda wc, input, attempt: attempt * (int(0.05 * input.size_mb) + 1000),
    shell:
        "python {input.script} --confidence {input.confidence} --knn {input.knn} --out {output} --log {log}"
