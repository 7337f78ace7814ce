# learned_infomap: a link classifier (gradient-boosted trees on scale-free features of each kNN link,
# ltc/learned_links.py) is trained on the labelled train split's kNN links; the threshold min_prob is
# chosen on the train split's out-of-fold probabilities (auto); the test split's links of probability
# >= min_prob, weighted by it, are clustered by Infomap into results/<ds>/learned_infomap/pred_labels.meta.
# Changing min_prob or the Infomap settings never reruns training.


include: "method_learned_infomap_common.smk"


rule train_learned_infomap:
    input:
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("train_learned_infomap.py"),
        package=package("train_learned_infomap.py"),
    output:
        "results/{ds}/learned_infomap/model.pkl",
    params:
        graph=lambda wc: learned_infomap_graph_options(wc),
        train=lambda wc: learned_infomap_train_options(wc),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/train_learned_infomap.log",
    benchmark:
        "results/{ds}/benchmarks/train_learned_infomap.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 3000),
        runtime=lambda wc, attempt: 120 * attempt,
    shell:
        "python {input.script} --knn {input.knn} --labels {input.labels} {params.noise} {params.graph} {params.train}"
        " --threads {threads} --out {output} --log {log}"


rule select_threshold_learned_infomap:
    input:
        labels=train_labels,
        knn=lambda wc: knn_file(wc, "train"),
        summary="results/{ds}/validate/train.json",
        script=script("select_threshold_learned_infomap.py"),
        package=package("select_threshold_learned_infomap.py"),
    output:
        json="results/{ds}/learned_infomap/threshold.json",
        plot=report(
            "results/{ds}/learned_infomap/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        graph=lambda wc: learned_infomap_graph_options(wc),
        train=lambda wc: learned_infomap_train_options(wc, folds=True),
        infomap=lambda wc: learned_infomap_infomap_options(wc),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_learned_infomap.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_learned_infomap.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(6 * input.size_mb) + 3000),
        runtime=lambda wc, attempt: 240 * attempt,
    shell:
        "python {input.script} --knn {input.knn} --labels {input.labels} {params.noise} {params.graph} {params.train}"
        " {params.infomap} --threads {threads} --out {output.json} --plot {output.plot} --log {log}"


rule cluster_learned_infomap:
    input:
        model=learned_infomap_model,
        knn=test_knn,
        threshold=lambda wc: threshold_file(wc, "learned_infomap"),
        summary="results/{ds}/validate/test.json",
        script=script("cluster_learned_infomap.py"),
        package=package("cluster_learned_infomap.py"),
    output:
        "results/{ds}/learned_infomap/pred_labels.meta",
    params:
        threshold=lambda wc: threshold_option(wc, "learned_infomap"),
        infomap=lambda wc: learned_infomap_infomap_options(wc),
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_learned_infomap.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_learned_infomap.tsv"
    threads: 8
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(6 * input.size_mb) + 3000),
        runtime=lambda wc, attempt: 120 * attempt,
    shell:
        "python {input.script} --model {input.model} --knn {input.knn} {params.threshold} {params.infomap}"
        " --threads {threads} --out {output} --log {log}"
