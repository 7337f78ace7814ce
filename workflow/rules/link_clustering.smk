# Clustering from links (GCN-V, GCN-E): each vertex's chosen peer and their similarity. Links with
# similarity >= the threshold are kept; clusters are the connected components. With the threshold
# set to `auto`, it is chosen on the labelled train split (best pairwise F over a sweep).


rule select_threshold_links:
    input:
        links="results/{ds}/{lmethod}/train/links.npz",
        labels=train_labels,
        script=script("select_threshold_links.py"),
        package=lambda wc: package("select_threshold_links.py", f"methods/{wc.lmethod}.py"),
    output:
        json="results/{ds}/{lmethod}/threshold.json",
        plot=report(
            "results/{ds}/{lmethod}/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        settings=lambda wc: settings_json(wc, wc.lmethod),
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_{lmethod}.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_{lmethod}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 1000),
    shell:
        "python {input.script} --links {input.links} --labels {input.labels} {params.noise} --method {wildcards.lmethod} --settings {params.settings:q}"
        " --out {output.json} --plot {output.plot} --log {log}"


rule cluster_links:
    input:
        links="results/{ds}/{lmethod}/test/links.npz",
        threshold=lambda wc: threshold_file(wc, wc.lmethod),
        script=script("cluster_links.py"),
        package=lambda wc: package("cluster_links.py", f"methods/{wc.lmethod}.py"),
    output:
        "results/{ds}/{lmethod}/pred_labels.meta",
    params:
        threshold=lambda wc: threshold_option(wc, wc.lmethod),
        settings=lambda wc: settings_json(wc, wc.lmethod),
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_{lmethod}.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_{lmethod}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(3 * input.size_mb) + 1000),
    shell:
        "python {input.script} --links {input.links} {params.threshold} --method {wildcards.lmethod} --settings {params.settings:q}"
        " --out {output} --log {log}"
