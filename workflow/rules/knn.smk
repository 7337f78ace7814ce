# kNN graph of a feature set by cosine similarity, in the original project's knns/NAME/<tag>_k_<k>.npz format.
# Scatter/gather: an approximate index is built once (knn_index), the query rows are split into
# `knn.shards` jobs that can run on different cluster nodes (knn_shard), and `knn` merges them.
# Shards are whole search batches, so any shard count gives the same file.
#
# One set of rules for every feature set; the folder names which (wildcard knn_dir, knn_common.smk):
# results/<ds>/knn/<split>/ the split's input features, results/<ds>/knn_<name>_features/<split>/ the
# features a method's rules make and register (e.g. a GCN's hidden features). The folder name also
# starts the log and benchmark names (knn_<split>_..., knn_<name>_features_<split>_...).
#
# A precomputed kNN file in the data folder (exact search: knns/NAME/faiss_k_<k>.npz) is never read
# by a consumer: knn_import checks it against the split's features (rows == N, ids -1..N-1, finite
# cosine distances), sorts unsorted rows, converts the original's ragged layout and writes the
# workflow's own file under results/<ds>/knn/<split>/precomputed/; every consumer reads only files
# the workflow wrote, and ltc.io.iter_knn checks each chunk of those again. Only the input features
# have precomputed files: the kNN of a registered feature set is always built.
#
# k larger than N: a row holds at most all N points (itself included). Where the split's feature file
# is the user's (there when the DAG is built) the file is named and built with k = N, so its name
# says what it holds (knn_k reads only the file's header). Where a rule makes the features (synthetic
# data, a download, a method's features) N is not known when the DAG is built, so the name keeps the
# configured k and the columns past N are missing neighbours (id -1, distance +inf), which every consumer skips.

include: "knn_common.smk"


rule knn_import:
    input:
        knn=knn_import_source,  # the user's file: read, never written
        features=lambda wc: split_inputs(wc)["features"],  # only its header: the row count N
        summary="results/{ds}/validate/{split}.json",
        script=script("knn_import.py"),
        package=package("knn_import.py"),
    output:
        "results/{ds}/knn/{split}/precomputed/{tag}_k_{k}.npz",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
    conda:
        ENV
    log:
        "results/{ds}/logs/knn_import_{split}_{tag}_k_{k}.log",
    threads: 1
    resources:
        # the plain layout is streamed; the ragged object layout is read whole (a few times its file)
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * os.path.getsize(input.knn) / 2**20) + 2000),
    shell:
        "python {input.script} --knn {input.knn} --features {input.features} --dim {params.dim}"
        " --k {wildcards.k} --out {output} --log {log}"


rule knn_index:
    input:
        unpack(knn_inputs),
        script=script("knn_index.py"),
        package=package("knn_index.py"),
    output:
        "results/{ds}/{knn_dir}/{split}/{tag}.index",  # kept: a new k or shard count reuses it
    wildcard_constraints:
        knn_dir=KNN_DIR_PATTERN,
        tag="ivf|hnsw",
    params:
        dim=knn_width,
        method=lambda wc: METHOD_OF_TAG[wc.tag],
        index_options=knn_index_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/{knn_dir}_index_{split}_{tag}.log",
    benchmark:
        "results/{ds}/benchmarks/{knn_dir}_index_{split}_{tag}.tsv"
    threads: 8
    resources:
        # a sample of the normalised rows for k-means, and the hnsw graph (or the ivf probes)
        mem_mb=lambda wc, input, attempt: attempt * (int(1.5 * input.size_mb) + 2000),
        runtime=lambda wc, input, attempt: attempt * (max(30, int(input.size_mb / 20))),
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --method {params.method}"
        " {params.index_options} --threads {threads} --out {output} --log {log}"


rule knn_shard:
    input:
        unpack(knn_inputs),
        index=knn_index_file,
        script=script("knn.py"),
        package=package("knn.py"),
    output:
        temp("results/{ds}/{knn_dir}/{split}/shards/{tag}_k_{k}.{shard}-of-{shards}.npz"),
    wildcard_constraints:
        knn_dir=KNN_DIR_PATTERN,
    params:
        dim=knn_width,
        method=lambda wc: METHOD_OF_TAG[wc.tag],
        batch_size=lambda wc: knn_settings(wc)["batch_size"],
        index=lambda wc, input: f"--index {input.index}" if input.index else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/{knn_dir}_{split}_{tag}_k_{k}.{shard}-of-{shards}.log",
    benchmark:
        "results/{ds}/benchmarks/{knn_dir}_shard_{split}_{tag}_k_{k}.{shard}-of-{shards}.tsv"
    threads: 8
    resources:
        # all normalised rows (ivf: stored cell by cell), plus this shard's neighbours
        mem_mb=lambda wc, input, attempt: attempt * (int(1.2 * input.size_mb * (1 + 1 / int(wc.shards))) + 2000),
        runtime=lambda wc, input, attempt: attempt * (max(30, int(input.size_mb / 5 / int(wc.shards)))),
    shell:
        "python {input.script} --features {input.features} --dim {params.dim} --k {wildcards.k}"
        " --method {params.method} {params.index} --shard {wildcards.shard} --shards {wildcards.shards}"
        " --batch-size {params.batch_size} --threads {threads} --out {output} --log {log}"


rule knn:
    input:
        shards=knn_shard_files,
        features=lambda wc: knn_inputs(wc)["features"],
        script=script("knn_gather.py"),
        package=package("knn_gather.py"),
    output:
        knn="results/{ds}/{knn_dir}/{split}/{tag}_k_{k}.npz",
        stats="results/{ds}/{knn_dir}/{split}/{tag}_k_{k}.json",
    wildcard_constraints:
        knn_dir=KNN_DIR_PATTERN,
    params:
        dim=knn_width,
        method=lambda wc: METHOD_OF_TAG[wc.tag],
        recall_sample=lambda wc: knn_settings(wc)["recall_sample"],
        seed=lambda wc: knn_settings(wc)["seed"],
    conda:
        ENV
    log:
        "results/{ds}/logs/{knn_dir}_{split}_{tag}_k_{k}.log",
    benchmark:
        "results/{ds}/benchmarks/{knn_dir}_{split}_{tag}_k_{k}.tsv"
    threads: 1
    resources:
        # shards are streamed through; recall@k searches a sample of queries exactly
        mem_mb=lambda wc, input, attempt: attempt * (int(0.3 * input.size_mb) + 2000),
    shell:
        "python {input.script} {input.shards} --features {input.features} --dim {params.dim}"
        " --method {params.method} --recall-sample {params.recall_sample} --seed {params.seed}"
        " --out {output.knn} --stats {output.stats} --log {log}"
