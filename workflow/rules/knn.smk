# kNN graph of a split by cosine similarity (faiss), in the original project's knns/NAME/<tag>_k_<k>.npz format.


rule knn:
    input:
        features=lambda wc: split_of(wc).features,
        summary="results/{ds}/validate/{split}.json",
        script=script("knn.py"),
        package=package("knn.py"),
    output:
        knn="results/{ds}/knn/{split}/{tag}_k_{k}.npz",
        stats="results/{ds}/knn/{split}/{tag}_k_{k}.json",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        method=lambda wc: METHOD_OF_TAG[wc.tag],
        batch_size=lambda wc: knn_settings(wc)["batch_size"],
        index_options=knn_index_options,
        seed=lambda wc: knn_settings(wc)["seed"],
    conda:
        ENV
    log:
        "results/{ds}/logs/knn_{split}_{tag}_k_{k}.log",
    benchmark:
        "results/{ds}/benchmarks/knn_{split}_{tag}_k_{k}.tsv"
    threads: 8
    resources:
        # the normalised copy of the features in the index, plus search buffers
        mem_mb=lambda wc, input: int(2.5 * input.size_mb) + 2000,
        runtime=lambda wc, input: max(30, int(input.size_mb / 10)),
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --k {wildcards.k}"
        " --method {params.method} --out {output.knn} --stats {output.stats} --threads {threads}"
        " --batch-size {params.batch_size} {params.index_options} --seed {params.seed} --log {log}"
