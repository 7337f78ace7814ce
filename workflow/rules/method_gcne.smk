# GCN-E (Yang et al., CVPR 2020), on top of GCN-V: for each confident vertex, a GCN over the subgraph
# of its more-confident kNN neighbours (kNN of GCN-V's hidden features) picks the one to link to;
# link_clustering.smk keeps the links above tau and takes components.


include: "method_gcne_common.smk"


rule train_gcne:
    input:
        features="results/{ds}/gcnv/train/gcn_features.npy",
        knn=lambda wc: gcne_knn(wc, "train"),
        confidence="results/{ds}/gcnv/train/hidden/confidence.npy",
        labels=train_labels,
        script=script("train_gcne.py"),
        package=package("train_gcne.py"),
    output:
        model="results/{ds}/gcne/model.pt",
        curve="results/{ds}/gcne/train_curve.tsv",
    params:
        th_sim=lambda wc: gcne_settings(wc)["th_sim"],
        nhid=lambda wc: gcne_settings(wc)["nhid"],
        ignore_ratio=lambda wc: gcne_settings(wc)["ignore_ratio"]["train"],
        train=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in gcne_settings(wc)["train"].items()),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_gcne.log",
    benchmark:
        "results/{ds}/benchmarks/train_gcne.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 600 * attempt,
        gpu=lambda wc: gcnv_settings(wc)["gpus"],
    shell:
        "python {input.script} --features {input.features} --knn {input.knn} --confidence {input.confidence}"
        " --labels {input.labels} {params.noise} --th-sim {params.th_sim} --nhid {params.nhid} --ignore-ratio {params.ignore_ratio}"
        " {params.train} --threads {threads} --out {output.model} --curve {output.curve} --log {log}"


rule links_gcne:
    input:
        model=gcne_model,
        features="results/{ds}/gcnv/{split}/gcn_features.npy",
        knn=gcne_knn,
        confidence="results/{ds}/gcnv/{split}/hidden/confidence.npy",
        script=script("links_gcne.py"),
        package=package("links_gcne.py"),
    output:
        "results/{ds}/gcne/{split}/links.npz",
    params:
        th_sim=lambda wc: gcne_settings(wc)["th_sim"],
        ignore_ratio=lambda wc: gcne_settings(wc)["ignore_ratio"]["test"],
    conda:
        ENV
    log:
        "results/{ds}/logs/links_gcne_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/links_gcne_{split}.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 2000),
    shell:
        "python {input.script} --model {input.model} --features {input.features} --knn {input.knn}"
        " --confidence {input.confidence} --th-sim {params.th_sim} --ignore-ratio {params.ignore_ratio}"
        " --threads {threads} --out {output} --log {log}"
