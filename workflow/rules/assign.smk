# Incremental clustering: the new faces of datasets.<ds>.new (features, optional labels and ids) get the
# clusters of an existing run, results/<ds>/<method>/pred_labels.meta, without clustering again (ltc.incremental).
# They are searched against the test split with the run's own kNN search (its saved ivf/hnsw index, the
# new rows added to it; exact search for flat), then join an existing cluster or form new ones: by the
# method's linking rule (knn_cc; fast_hac single) at its threshold, else by the nearest cluster above a
# threshold chosen on the labelled train split (datasets.<ds>.new.threshold: auto) or given. Everything
# goes to results/<ds>/<method>/assigned/; the run's own files are never written:
#   pred_labels.meta  the new faces' clusters, in the numbering of the run's pred_labels.meta
#   old_labels.meta   the test items' clusters afterwards (the run's, unless new.merge: true merges some)
#   clusters.tsv      the new faces' table (cluster numbers of the run's clusters.tsv, new ones after them)
#   assign.json       counts: joined, new clusters, bridges between clusters, merges
#   metrics.json      with new.labels: the new faces' scores (and the union's, for a labelled test split)


include: "assign_common.smk"


rule validate_new:
    input:
        unpack(new_inputs),
        script=script("validate.py"),
        package=package("validate.py"),
    output:
        "results/{ds}/validate/new.json",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        labels=lambda wc, input: f"--labels {input.labels}" if "labels" in input.keys() else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/validate_new.log",
    benchmark:
        "results/{ds}/benchmarks/outputs/validate_new.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
    shell:
        "python {input.script} --features {input.features} {params.labels} --dim {params.dim}"
        " --out {output} --log {log}"


rule select_threshold_assign:
    input:
        knn=lambda wc: knn_file(wc, "train"),
        labels=train_labels,
        script=script("assign.py"),
        package=package("assign.py"),
    output:
        json="results/{ds}/assign/threshold.json",
        plot="results/{ds}/assign/threshold_sweep.png",
    params:
        noise=truth_noise,
        holdout=lambda wc: assign_settings(wc)["holdout"],
        seed=lambda wc: assign_settings(wc)["seed"],
        merge=lambda wc: "--merge" if assign_settings(wc)["merge"] else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_assign.log",
    benchmark:
        "results/{ds}/benchmarks/outputs/select_threshold_assign.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --log {log} choose --knn {input.knn} --labels {input.labels} {params.noise}"
        " --holdout {params.holdout} --seed {params.seed} {params.merge} --out {output.json} --plot {output.plot}"


rule assign:
    input:
        unpack(assign_inputs),
        script=script("assign.py"),
        package=package("assign.py"),
    output:
        pred="results/{ds}/{method}/assigned/pred_labels.meta",
        old="results/{ds}/{method}/assigned/old_labels.meta",
        tsv="results/{ds}/{method}/assigned/clusters.tsv",
        summary="results/{ds}/{method}/assigned/assign.json",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        options=assign_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/assign_{method}.log",
    benchmark:
        "results/{ds}/benchmarks/outputs/assign_{method}.tsv"
    threads: 8
    resources:
        # the clustered and new rows normalised (twice: the union and the search's copy), the new kNN
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 2000),
    shell:
        "python {input.script} --log {log} assign --features {input.features} --new {input.new} --dim {params.dim}"
        " --pred {input.pred} {params.options} --threads {threads} --out {output.pred} --old-out {output.old}"
        " --tsv {output.tsv} --summary {output.summary}"


rule evaluate_assigned:
    input:
        unpack(assigned_test_labels),
        new_labels=new_labels,
        pred="results/{ds}/{method}/assigned/pred_labels.meta",
        old="results/{ds}/{method}/assigned/old_labels.meta",
        script=script("assign.py"),
        package=package("assign.py"),
    output:
        "results/{ds}/{method}/assigned/metrics.json",
    params:
        union=lambda wc, input: f"--labels {input.labels} --old {input.old}" if "labels" in input.keys() else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/evaluate_assigned_{method}.log",
    benchmark:
        "results/{ds}/benchmarks/outputs/evaluate_assigned_{method}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
    shell:
        "python {input.script} --log {log} evaluate --new-labels {input.new_labels} --pred {input.pred}"
        " {params.union} --method {wildcards.method} --out {output}"
