# Training-free baseline: kNN neighbours with cosine >= threshold linked, clusters = connected components.
# With `threshold: auto` the cut is chosen on the labelled train split (best pairwise F).


register_cost("knn_cc", lambda wc: own_steps(wc, "knn_cc", "cluster_knn_cc", "select_threshold_knn_cc"))


rule select_threshold_knn_cc:
    input:
        knn=lambda wc: knn_file(wc, "train"),
        labels=train_labels,
        script=script("select_threshold_knn_cc.py"),
        package=package("select_threshold_knn_cc.py"),
    output:
        json="results/{ds}/knn_cc/threshold.json",
        plot=report(
            "results/{ds}/knn_cc/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_knn_cc.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_knn_cc.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} --labels {input.labels} {params.noise}"
        " --out {output.json} --plot {output.plot} --log {log}"


rule cluster_knn_cc:
    input:
        knn=test_knn,
        summary="results/{ds}/validate/test.json",
        threshold=lambda wc: threshold_file(wc, "knn_cc"),
        script=script("knn_cc.py"),
        package=package("knn_cc.py"),
    output:
        "results/{ds}/knn_cc/pred_labels.meta",
    params:
        threshold=lambda wc: threshold_option(wc, "knn_cc"),
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_knn_cc.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_knn_cc.tsv"
    threads: 1
    resources:
        # the kNN file is streamed; the kept links are held as int32 (6.7 GB for a 3.3 GB 5.21M x 80 file)
        mem_mb=lambda wc, input, attempt: attempt * (int(2.2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --knn {input.knn} {params.threshold} --out {output} --log {log}"
