# Training-free baseline: kNN neighbours with cosine >= threshold linked, clusters = connected components.


rule cluster_knn_cc:
    input:
        knn=test_knn,
        summary="results/{ds}/validate/test.json",
        script=script("knn_cc.py"),
        package=package("graph.py", "methods/knn_cc.py"),
    output:
        "results/{ds}/knn_cc/pred_labels.meta",
    params:
        threshold=lambda wc: method_settings(wc, "knn_cc")["threshold"],
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_knn_cc.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_knn_cc.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input: int(3 * input.size_mb) + 1000,
    shell:
        "python {input.script} --knn {input.knn} --threshold {params.threshold} --out {output} --log {log}"
