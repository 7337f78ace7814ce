# Re-attach isolated points (ltc/reattach.py): results/<ds>/<method>+reattach/pred_labels.meta is a
# method's test clustering with each singleton joined to its nearest test neighbour's cluster where their
# cosine is >= reattach.threshold (auto: chosen on the labelled train split, without running the method
# there). Scored by evaluate like any method; the methods listed under reattach.methods are compared
# with and without it (results/<ds>/comparison.*).


include: "reattach_common.smk"


wildcard_constraints:
    rmethod="|".join(config["methods"]),


rule select_threshold_reattach:
    input:
        knn=lambda wc: knn_file(wc, "train"),
        labels=train_labels,
        script=script("reattach.py"),
        package=package("reattach.py"),
    output:
        "results/{ds}/reattach/threshold.json",
    params:
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_reattach.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_reattach.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --log {log} choose --knn {input.knn} --labels {input.labels} {params.noise}"
        " --out {output}"


rule reattach:
    input:
        pred="results/{ds}/{rmethod}/pred_labels.meta",
        knn=test_knn,
        threshold=reattach_threshold_file,
        script=script("reattach.py"),
        package=package("reattach.py"),
    output:
        pred="results/{ds}/{rmethod}+reattach/pred_labels.meta",
        summary="results/{ds}/{rmethod}+reattach/reattach.json",
    params:
        threshold=reattach_threshold_option,
    conda:
        ENV
    log:
        "results/{ds}/logs/reattach_{rmethod}.log",
    benchmark:
        "results/{ds}/benchmarks/reattach_{rmethod}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(2 * input.size_mb) + 1000),
    shell:
        "python {input.script} --log {log} apply --pred {input.pred} --knn {input.knn} {params.threshold}"
        " --out {output.pred} --summary {output.summary}"
