# GCN-D (Yang et al., CVPR 2019): cluster proposals per (k, th) setting on the kNN graph (one job each;
# a derived th such as q0.8 read from results/<ds>/gcnd/thresholds.json, made from the train split),
# and per second-iteration (super-vertex) setting of methods.gcnd.super_vertex (proposals_gcnd_sv),
# GCN-D trained on the labelled train split's proposals to predict their IoU, the test proposals
# scored, then de-overlapped best first into results/<ds>/gcnd/pred_labels.meta. With
# methods.gcnd.segment.enabled, GCN-S (train_gcns, infer_gcns) gives each test proposal member a
# probability, and the de-overlap cleans the proposals first. Each stage is its own rule, so changing
# the scores' source (methods.gcnd.score) or the de-overlap (segment.th_outlier, apply_iop,
# keep_outlier) reruns neither the proposals nor any training.


include: "method_gcnd_common.smk"


rule thresholds_gcnd:
    input:
        knn=lambda wc: knn_file(wc, "train"),
        labels=train_labels,
        summary="results/{ds}/validate/train.json",
        script=script("thresholds_gcnd.py"),
        package=package("thresholds_gcnd.py"),
    output:
        "results/{ds}/gcnd/thresholds.json",
    params:
        settings=gcnd_derived_options,
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/thresholds_gcnd.log",
    benchmark:
        "results/{ds}/benchmarks/thresholds_gcnd.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --labels {input.labels} {params.noise} {params.settings}"
        " --out {output} --log {log}"


rule proposals_gcnd:
    input:
        knn=knn_file,
        summary="results/{ds}/validate/{split}.json",
        thresholds=gcnd_thresholds,
        script=script("proposals_gcnd.py"),
        package=package("proposals_gcnd.py"),
    output:
        "results/{ds}/gcnd/{split}/proposals/k_{pk}_th_{pth}.npz",
    wildcard_constraints:
        pk=r"\d+",
        pth=r"-?\d+(\.\d+)?(e-?\d+)?|[qr]\d+(\.\d+)?",  # repr of a float, or a derived th (gcnd_th_name)
    params:
        step=lambda wc: gcnd_settings(wc)["step"],
        minsz=lambda wc: gcnd_settings(wc)["minsz"],
        maxsz=lambda wc: gcnd_settings(wc)["maxsz"],
        thresholds=lambda wc: f"--thresholds {gcnd_thresholds(wc)}" if gcnd_thresholds(wc) else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/proposals_gcnd_{split}_k_{pk}_th_{pth}.log",
    benchmark:
        "results/{ds}/benchmarks/proposals_gcnd_{split}_k_{pk}_th_{pth}.tsv"
    threads: 1
    resources:
        # the kNN graph whole (ids int64 + dists float32) and the kept links
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --k {wildcards.pk} --th {wildcards.pth} --step {params.step}"
        " --minsz {params.minsz} --maxsz {params.maxsz} {params.thresholds} --out {output} --log {log}"


rule proposals_gcnd_sv:  # the second iteration: super-vertices of the clusters of (pk, pth), linked to their first svk
    input:
        knn=knn_file,
        features=lambda wc: split_of(wc).features,
        summary="results/{ds}/validate/{split}.json",
        thresholds=gcnd_thresholds,
        script=script("proposals_gcnd.py"),
        package=package("proposals_gcnd.py"),
    output:
        "results/{ds}/gcnd/{split}/proposals/sv_k_{svk}_maxsz_{svmax}_of_k_{pk}_th_{pth}.npz",
    wildcard_constraints:
        svk=r"\d+",
        svmax=r"\d+",
        pk=r"\d+",
        pth=r"-?\d+(\.\d+)?(e-?\d+)?|[qr]\d+(\.\d+)?",  # repr of a float, or a derived th (gcnd_th_name)
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        step=lambda wc: gcnd_settings(wc)["step"],
        maxsz=lambda wc: gcnd_settings(wc)["maxsz"],
        sv=lambda wc: " ".join(f"--i1-{key.replace('_', '-')} {value}" for key, value in gcnd_settings(wc)["sv"].items()),
        thresholds=lambda wc: f"--thresholds {gcnd_thresholds(wc)}" if gcnd_thresholds(wc) else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/proposals_gcnd_sv_{split}_k_{svk}_maxsz_{svmax}_of_k_{pk}_th_{pth}.log",
    benchmark:
        "results/{ds}/benchmarks/proposals_gcnd_sv_{split}_k_{svk}_maxsz_{svmax}_of_k_{pk}_th_{pth}.tsv"
    threads: 1
    resources:
        # the kNN graph whole (ids int64 + dists float32), the features and their unit copy
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --k {wildcards.pk} --th {wildcards.pth} --step {params.step}"
        " --maxsz {params.maxsz} {params.thresholds} --features {input.features} --dim {params.dim}"
        " --i1-k {wildcards.svk} --i1-sv-maxsz {wildcards.svmax} {params.sv} --out {output} --log {log}"


rule train_gcnd:
    input:
        features=lambda wc: split_of(wc, "train").features,
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        proposals=lambda wc: gcnd_proposals(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("train_gcnd.py"),
        package=package("train_gcnd.py"),
    output:
        model="results/{ds}/gcnd/model.pt",
        curve="results/{ds}/gcnd/train_curve.tsv",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        hidden=lambda wc: shlex.quote(json.dumps(gcnd_settings(wc)["hidden"])),
        dropout=lambda wc: gcnd_settings(wc)["dropout"],
        target=lambda wc: gcnd_settings(wc)["target"],
        train=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in gcnd_settings(wc)["train"].items()),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_gcnd.log",
    benchmark:
        "results/{ds}/benchmarks/train_gcnd.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=lambda wc: gcnd_settings(wc)["gpus"],
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --labels {input.labels} {params.noise}"
        " --knn {input.knn} --proposals {input.proposals} --hidden {params.hidden} --dropout {params.dropout}"
        " --target {params.target} {params.train} --threads {threads} --out {output.model} --curve {output.curve}"
        " --log {log}"


rule infer_gcnd:  # GCN-D's scores of a split's proposals (train: for choosing th_pos)
    input:
        model=gcnd_model,
        features=lambda wc: split_of(wc, wc.split).features,
        knn=knn_file,
        proposals=lambda wc: gcnd_proposals(wc, wc.split),
        summary="results/{ds}/validate/{split}.json",
        script=script("infer_gcnd.py"),
        package=package("infer_gcnd.py"),
    output:
        "results/{ds}/gcnd/{split}/scores.npy",
    wildcard_constraints:
        split="train|test",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        device=lambda wc: gcnd_settings(wc)["train"]["device"],
    conda:
        ENV
    log:
        "results/{ds}/logs/infer_gcnd_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/infer_gcnd_{split}.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 2000),
    shell:
        "python {input.script} --model {input.model} --features {input.features} --dim {params.dim}"
        " --knn {input.knn} --proposals {input.proposals} --device {params.device} --threads {threads}"
        " --out {output} --log {log}"


rule truth_gcnd:  # methods.gcnd.score: gt, the upper bound (true IoU from the split's labels, an oracle)
    input:
        labels=lambda wc: train_labels(wc) if wc.split == "train" else test_labels(wc),
        proposals=lambda wc: gcnd_proposals(wc, wc.split),
        script=script("infer_gcnd.py"),
        package=package("infer_gcnd.py"),
    output:
        "results/{ds}/gcnd/{split}/true_scores.npy",
    wildcard_constraints:
        split="train|test",
    params:
        target=lambda wc: gcnd_settings(wc)["target"],
    conda:
        ENV
    log:
        "results/{ds}/logs/truth_gcnd_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/truth_gcnd_{split}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --labels {input.labels} --proposals {input.proposals} --target {params.target}"
        " --out {output} --log {log}"


rule select_threshold_gcnd:  # th_pos: auto, the best pairwise F of the train proposals' de-overlap
    input:
        knn=lambda wc: knn_file(wc, "train"),
        proposals=lambda wc: gcnd_proposals(wc, "train"),
        scores=lambda wc: gcnd_scores(wc, "train"),
        labels=train_labels,
        script=script("select_threshold_gcnd.py"),
        package=package("select_threshold_gcnd.py"),
    output:
        json="results/{ds}/gcnd/threshold.json",
        plot=report(
            "results/{ds}/gcnd/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_gcnd.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_gcnd.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --proposals {input.proposals} --scores {input.scores}"
        " --labels {input.labels} {params.noise} --out {output.json} --plot {output.plot} --log {log}"


rule train_gcns:
    input:
        features=lambda wc: split_of(wc, "train").features,
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        proposals=lambda wc: gcnd_proposals(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("train_gcns.py"),
        package=package("train_gcns.py"),
    output:
        model="results/{ds}/gcnd/gcns/model.pt",
        curve="results/{ds}/gcnd/gcns/train_curve.tsv",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        hidden=lambda wc: shlex.quote(json.dumps(gcns_settings(wc)["hidden"])),
        dropout=lambda wc: gcns_settings(wc)["dropout"],
        seed_mode=lambda wc: gcns_settings(wc)["seed"],
        train_iop=lambda wc: " ".join(map(str, gcns_settings(wc)["train_iop"])),
        train=lambda wc: " ".join(f"--{key.replace('_', '-')} {value}" for key, value in gcns_settings(wc)["train"].items()),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_gcns.log",
    benchmark:
        "results/{ds}/benchmarks/train_gcns.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 4000),
        runtime=lambda wc, attempt: 240 * attempt,
        gpu=lambda wc: gcnd_settings(wc)["gpus"],
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --labels {input.labels} {params.noise}"
        " --knn {input.knn} --proposals {input.proposals} --hidden {params.hidden} --dropout {params.dropout}"
        " --seed-mode {params.seed_mode} --train-iop {params.train_iop} {params.train} --threads {threads}"
        " --out {output.model} --curve {output.curve} --log {log}"


rule infer_gcns:
    input:
        model=gcns_model,
        features=lambda wc: split_of(wc, "test").features,
        knn=test_knn,
        proposals=lambda wc: gcnd_proposals(wc, "test"),
        summary="results/{ds}/validate/test.json",
        script=script("infer_gcns.py"),
        package=package("infer_gcns.py"),
    output:
        "results/{ds}/gcnd/test/keep.npy",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        seed_mode=lambda wc: gcns_settings(wc)["seed"],
        seed=lambda wc: gcns_settings(wc)["train"]["seed"],
        device=lambda wc: gcns_settings(wc)["train"]["device"],
    conda:
        ENV
    log:
        "results/{ds}/logs/infer_gcns.log",
    benchmark:
        "results/{ds}/benchmarks/infer_gcns.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 2000),
    shell:
        "python {input.script} --model {input.model} --features {input.features} --dim {params.dim}"
        " --knn {input.knn} --proposals {input.proposals} --seed-mode {params.seed_mode} --seed {params.seed}"
        " --device {params.device} --threads {threads} --out {output} --log {log}"


rule deoverlap_gcnd:
    input:
        knn=test_knn,
        proposals=lambda wc: gcnd_proposals(wc, "test"),
        scores=lambda wc: gcnd_scores(wc, "test"),
        keep=gcns_keep,
        threshold=lambda wc: threshold_file(wc, "gcnd"),
        script=script("deoverlap_gcnd.py"),
        package=package("deoverlap_gcnd.py"),
    output:
        "results/{ds}/gcnd/pred_labels.meta",
    params:
        segment=gcns_options,
        threshold=lambda wc: threshold_option(wc, "gcnd"),
    conda:
        ENV
    log:
        "results/{ds}/logs/deoverlap_gcnd.log",
    benchmark:
        "results/{ds}/benchmarks/deoverlap_gcnd.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --proposals {input.proposals} --scores {input.scores}"
        " {params.threshold} {params.segment} --out {output} --log {log}"
