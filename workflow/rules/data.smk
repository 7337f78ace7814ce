# Data stages: make the dataset files (synthetic generator or archive download), then validate each split.
#
# A file the user names (a split's explicit features / labels path) is never any rule's output: the
# generator writes only the layout files of the splits given by name (data_dir/features/NAME.bin,
# data_dir/labels/NAME.meta), and a config in which an archive's file is such a path stops here.

for _ds, _spec in config["datasets"].items():
    _generated = ltc.datasets.generated_splits(config, _ds)  # none of a split given by explicit paths
    if _generated:

        rule:
            name:
                f"synthesize_{_ds}"
            output:
                **{f"{which}_{kind}": path for which, files in _generated.items()
                   for kind, path in zip(("features", "labels"), files)},
            input:
                script=script("make_synthetic.py"),
                package=package("make_synthetic.py"),
            params:
                dim=_spec["dim"],
                seed=_spec["synthetic"].get("seed", 0),
                train_identities=_spec["synthetic"]["train_identities"],
                test_identities=_spec["synthetic"]["test_identities"],
                splits=synthetic_options,
            conda:
                ENV
            log:
                f"results/{_ds}/logs/synthesize.log",
            benchmark:
                f"results/{_ds}/benchmarks/synthesize.tsv"
            threads: 1
            resources:
                mem_mb=lambda wc, attempt: 4000 * attempt,
            shell:
                "python {input.script} --dim {params.dim} --seed {params.seed}"
                " --train-identities {params.train_identities} --test-identities {params.test_identities}"
                " {params.splits} --log {log}"

    for _archive, _entry in _spec.get("archives", {}).items():
        _root = ltc.datasets.data_dir(config, _ds)

        rule:
            name:
                f"download_{_ds}_{_archive}"
            output:
                [f"{_root}/{rel}" for rel in _entry["provides"]],
            input:
                script=script("download.py"),
                package=package("download.py"),
            params:
                url=_entry["url"],
                sha256=f"--sha256 {_entry['sha256']}" if _entry.get("sha256") else "",
                archive=f"{_root}/archives/{_entry['file']}",
                dest=data_dir_of(_ds),
                provides=_entry["provides"],
                md5=[f"{rel}={digest}" for rel, digest in (_entry.get("md5") or {}).items()],
            conda:
                ENV
            log:
                f"results/{_ds}/logs/download_{_archive}.log",
            benchmark:
                f"results/{_ds}/benchmarks/download_{_archive}.tsv"
            threads: 1
            resources:
                mem_mb=lambda wc, attempt: 1000 * attempt,
            localrule: True  # cluster compute nodes often have no internet access
            shell:
                "python {input.script} --url '{params.url}' --archive {params.archive} {params.sha256}"
                " --dest {params.dest} --provides {params.provides} --md5 {params.md5:q} --log {log}"


rule validate:
    input:
        unpack(split_inputs),
        script=script("validate.py"),
        package=package("validate.py"),
    output:
        "results/{ds}/validate/{split}.json",
    params:
        dim=lambda wc: config["datasets"][wc.ds]["dim"],
        labels=lambda wc, input: f"--labels {input.labels}" if "labels" in input.keys() else "",
    conda:
        ENV
    log:
        "results/{ds}/logs/validate_{split}.log",
    benchmark:
        "results/{ds}/benchmarks/validate_{split}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
    shell:
        "python {input.script} --features {input.features} {params.labels} --dim {params.dim}"
        " --out {output} --log {log}"
