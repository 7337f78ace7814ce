# Outputs people can use: results/<ds>/<method>/clusters.{tsv,json} (every test item's cluster, id and
# confidence; `python workflow/scripts/clusters.py CLUSTERS.tsv --link-images DIR` links the images of
# each cluster into a folder), and results/<ds>/summary.{tsv,md}, what results/<ds>/all makes for a
# test split without labels (clusters and cost per compared method).
include: "clusters_common.smk"


rule clusters:
    input:
        unpack(clusters_inputs),
        script=script("clusters.py"),
        package=package("clusters.py"),
    output:
        tsv="results/{ds}/{method}/clusters.tsv",
        json="results/{ds}/{method}/clusters.json",
    params:
        options=clusters_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/clusters_{method}.log",
    benchmark:
        # in a subfolder: not a step of the method (the comparison reads the top-level files only)
        "results/{ds}/benchmarks/outputs/clusters_{method}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(20 * input.size_mb) + 1000),
    shell:
        "python {input.script} --pred {input.pred} {params.options} --dataset {wildcards.ds:q}"
        " --method {wildcards.method} --tsv {output.tsv} --json {output.json} --log {log}"


rule summary:
    input:
        pred=lambda wc: [f"results/{wc.ds}/{m}/pred_labels.meta" for m in compare_methods(wc)],
        script=script("summary.py"),
        package=package("summary.py"),
    output:
        tsv="results/{ds}/summary.tsv",
        md="results/{ds}/summary.md",
    params:
        options=summary_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/summary.log",
    benchmark:
        "results/{ds}/benchmarks/outputs/summary.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --dataset {wildcards.ds:q} --pred {input.pred} {params.options}"
        " --benchmarks results/{wildcards.ds}/benchmarks --tsv {output.tsv} --md {output.md} --log {log}"
