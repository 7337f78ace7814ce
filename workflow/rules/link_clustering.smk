# Clustering from links (GCN-V, GCN-E): each vertex's chosen peer and their similarity. Links with
# similarity >= the threshold are kept; clusters are the connected components. With the threshold
# set to `auto`, it is chosen on the labelled train split (best pairwise F over a sweep).


rule select_threshold_links:
    input:
        links="results/{ds}/{lmethod}/train/links.npz",
        labels=train_labels,
        script=script("select_threshold_links.py"),
        package=package("select_threshold_links.py"),
    output:
        json="results/{ds}/{lmethod}/threshold.json",
        plot=report(
            "results/{ds}/{lmethod}/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        name=link_threshold_name,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_{lmethod}.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_{lmethod}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input: int(3 * input.size_mb) + 1000,
    shell:
        "python {input.script} --links {input.links} --labels {input.labels} --name {params.name} --method {wildcards.lmethod}"
        " --out {output.json} --plot {output.plot} --log {log}"


rule cluster_links:
    input:
        links="results/{ds}/{lmethod}/test/links.npz",
        threshold=lambda wc: threshold_file(wc, wc.lmethod, link_threshold_name(wc)),
        script=script("cluster_links.py"),
        package=package("cluster_links.py"),
    output:
        "results/{ds}/{lmethod}/pred_labels.meta",
    params:
        threshold=lambda wc: chosen_threshold(wc, wc.lmethod, link_threshold_name(wc)),
        name=link_threshold_name,
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_{lmethod}.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_{lmethod}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input: int(3 * input.size_mb) + 1000,
    shell:
        "python {input.script} --links {input.links} --threshold {params.threshold} --name {params.name} --method {wildcards.lmethod}"
        " --out {output} --log {log}"
