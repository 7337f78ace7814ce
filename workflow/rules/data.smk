# Data stages: make the dataset files (synthetic generator or archive download), then validate each split;
# and the model zoo's downloads (config `models`), which a method's `checkpoint: zoo:NAME` asks for.
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


# Downloads: each dataset archive (datasets.<ds>.archives.<name>: rule download_<ds>_<name>) and each entry
# of the model zoo (models.<name>: rule download_model_<name>, into <data_dir>/pretrained_models/), through
# one rule template and workflow/scripts/download.py. The script and package are `ancient` inputs: files
# already in place (a learn-to-cluster data/ folder, a model put there by hand) are never downloaded again
# because the code is newer.
try:
    ZOO_ENTRIES = ltc.download.zoo_entries(config.get("models"), config["data_dir"])
except ltc.DataError as _err:
    stop(str(_err))

_downloads = []  # (rule name, entry, folder its files land in, archive or None: one file, log and benchmark stem)
for _ds, _spec in config["datasets"].items():
    for _archive, _entry in _spec.get("archives", {}).items():
        _root = ltc.datasets.data_dir(config, _ds)
        _downloads.append((f"download_{_ds}_{_archive}", _entry, _root, f"{_root}/archives/{_entry['file']}",
                           f"results/{_ds}/logs/download_{_archive}", f"results/{_ds}/benchmarks/download_{_archive}"))
for _model in ZOO_ENTRIES:
    _downloads.append((f"download_model_{_model.name}", config["models"][_model.name], _model.folder,
                       _model.archive, f"results/{ltc.download.MODELS_FOLDER}/logs/download_{_model.name}",
                       f"results/{ltc.download.MODELS_FOLDER}/benchmarks/download_{_model.name}"))

for _name, _entry, _root, _kept, _log, _bench in _downloads:

    rule:
        name:
            _name
        output:
            [f"{_root}/{rel}" for rel in _entry["provides"]],
        input:
            script=ancient(script("download.py")),
            package=[ancient(path) for path in package("download.py")],
        params:
            url=_entry["url"],
            sha256=f"--sha256 {_entry['sha256']}" if _entry.get("sha256") else "",
            kept=f"--archive {_kept}" if _kept else "--single",
            dest=lambda wc, root=_root: root,  # a function: lint wants no hardcoded path prefix
            provides=_entry["provides"],
            md5=[f"{rel}={digest}" for rel, digest in (_entry.get("md5") or {}).items()],
        conda:
            ENV
        log:
            f"{_log}.log",
        benchmark:
            f"{_bench}.tsv"
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 1000 * attempt,
        localrule: True  # cluster compute nodes often have no internet access
        shell:
            "python {input.script} --url '{params.url}' {params.kept} {params.sha256}"
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
