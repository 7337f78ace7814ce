# L-GCN (Wang et al., CVPR 2019): trained on the labelled train split's pivot subgraphs, then every
# point of a split as a pivot predicts its links to its hop-1 kNN neighbours (links.npz per split); the
# threshold th is chosen on the train split's links (auto) and the test links are clustered into
# results/<ds>/lgcn/pred_labels.meta. Changing th, step or maxsz reruns neither training nor links.


include: "method_lgcn_common.smk"


rule train_lgcn:
    input:
        features=lambda wc: split_of(wc, "train").features,
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("train_lgcn.py"),
        package=package("train_lgcn.py"),
    output:
        model="results/{ds}/lgcn/model.pt",
        curve="results/{ds}/lgcn/train_curve.tsv",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        hops=lambda wc: lgcn_hops(wc),
        active=lambda wc: lgcn_settings(wc)["active_connection"],
        nhid=lambda wc: lgcn_settings(wc)["nhid"],
        limit=lambda wc: lgcn_settings(wc)["max_cpu_nodes"],
        train=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in lgcn_settings(wc)["train"].items()),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_lgcn.log",
    benchmark:
        "results/{ds}/benchmarks/train_lgcn.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=lambda wc: lgcn_settings(wc)["gpus"],
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --labels {input.labels} {params.noise}"
        " --knn {input.knn} --k-at-hop {params.hops} --active-connection {params.active} --nhid {params.nhid}"
        " {params.train} --max-cpu-nodes {params.limit} --threads {threads} --out {output.model} --curve {output.curve} --log {log}"


rule links_lgcn:
    input:
        model=lgcn_model,
        features=lambda wc: split_of(wc).features,
        knn=knn_file,
        summary="results/{ds}/validate/{split}.json",
        script=script("links_lgcn.py"),
        package=package("links_lgcn.py"),
    output:
        "results/{ds}/lgcn/{split}/links.npz",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        hops=lambda wc: lgcn_hops(wc),
        active=lambda wc: lgcn_settings(wc)["active_connection"],
        device=lambda wc: lgcn_settings(wc)["train"]["device"],
        limit=lambda wc: lgcn_settings(wc)["max_cpu_nodes"],
    conda:
        ENV
    log:
        "results/{ds}/logs/links_lgcn_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/links_lgcn_{split}.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=lambda wc: lgcn_settings(wc)["gpus"],
    shell:
        "python {input.script} --model {input.model} --features {input.features} --dim {params.dim} --knn {input.knn}"
        " --k-at-hop {params.hops} --active-connection {params.active} --device {params.device}"
        " --max-cpu-nodes {params.limit} --threads {threads} --out {output} --log {log}"


rule select_threshold_lgcn:
    input:
        links="results/{ds}/lgcn/train/links.npz",
        labels=train_labels,
        script=script("select_threshold_lgcn.py"),
        package=package("select_threshold_lgcn.py"),
    output:
        json="results/{ds}/lgcn/threshold.json",
        plot=report(
            "results/{ds}/lgcn/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        maxsz=lambda wc: lgcn_settings(wc)["maxsz"],
        step=lambda wc: lgcn_settings(wc)["step"],
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_lgcn.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_lgcn.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --links {input.links} --labels {input.labels} {params.noise} --maxsz {params.maxsz}"
        " --step {params.step} --out {output.json} --plot {output.plot} --log {log}"


rule cluster_lgcn:
    input:
        links="results/{ds}/lgcn/test/links.npz",
        threshold=lambda wc: threshold_file(wc, "lgcn"),
        script=script("cluster_lgcn.py"),
        package=package("cluster_lgcn.py"),
    output:
        "results/{ds}/lgcn/pred_labels.meta",
    params:
        threshold=lambda wc: threshold_option(wc, "lgcn"),
        maxsz=lambda wc: lgcn_settings(wc)["maxsz"],
        step=lambda wc: lgcn_settings(wc)["step"],
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_lgcn.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_lgcn.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --links {input.links} {params.threshold} --maxsz {params.maxsz} --step {params.step}"
        " --out {output} --log {log}"
