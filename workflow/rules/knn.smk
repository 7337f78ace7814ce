# kNN graph of a split by cosine similarity (faiss), in the original project's knns/NAME/<tag>_k_<k>.npz format.


rule knn:
    input:
        features=lambda wc: split_of(wc).features,
        summary="results/{ds}/validate/{split}.json",
        code=code("knn.py", "knn.py"),
    output:
        knn="results/{ds}/knn/{split}/{tag}_k_{k}.npz",
        stats="results/{ds}/knn/{split}/{tag}_k_{k}.json",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        method=lambda wc: METHOD_OF_TAG[wc.tag],
        batch_size=lambda wc: knn_settings(wc)["batch_size"],
        nlist=lambda wc: knn_settings(wc)["ivf"]["nlist"],
        nprobe=lambda wc: knn_settings(wc)["ivf"]["nprobe"],
        hnsw_m=lambda wc: knn_settings(wc)["hnsw"]["m"],
        ef_construction=lambda wc: knn_settings(wc)["hnsw"]["ef_construction"],
        ef_search=lambda wc: knn_settings(wc)["hnsw"]["ef_search"],
        recall_sample=lambda wc: knn_settings(wc)["recall_sample"],
        seed=lambda wc: knn_settings(wc)["seed"],
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
        "python {SCRIPTS}/knn.py --features {input.features} --dim {params.dim} --k {wildcards.k}"
        " --method {params.method} --out {output.knn} --stats {output.stats} --threads {threads}"
        " --batch-size {params.batch_size} --nlist {params.nlist} --nprobe {params.nprobe}"
        " --hnsw-m {params.hnsw_m} --ef-construction {params.ef_construction} --ef-search {params.ef_search}"
        " --recall-sample {params.recall_sample} --seed {params.seed} --log {log}"
