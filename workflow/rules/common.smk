# Glue between the config and the rules: validation, wildcard constraints, input functions.
import json
import os
import re
import shlex
import sys
import types

import ltc.config
import ltc.datasets
import ltc.download
import ltc.imports
import ltc.io
import ltc.method_choice
import ltc.methods.registry
from ltc.datasets import KNN_FILE_TAG as FILE_TAG
from snakemake.logging import logger


def stop(sentence, detail=None):
    """End the run before any job with one sentence saying what to set or ask for (a bad config, a target
    the config cannot make); ``detail`` goes to a file it names. Input functions call it too: Snakemake
    would wrap a WorkflowError raised there in its own report, with a traceback of the rule files."""
    if detail:
        path = os.path.join(".snakemake", "log", "config_error.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(f"{detail}\n")
        sentence = f"{sentence.rstrip('.')} (the schema's full report: {path})."
    logger.error(sentence)
    sys.exit(1)


_problem = ltc.config.config_problem(
    config, ltc.config.load_schema(os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))
)
if _problem:
    stop(*_problem)
config["datasets"] = ltc.datasets.with_test_scales(config["datasets"])  # <ds>/<scale> per test scale

try:  # a file the user names is never any rule's output (see data.smk)
    ltc.datasets.check_file_owners(config)
except ltc.DataError as _err:
    stop(str(_err))

if config["dataset"] not in config["datasets"]:
    stop(
        f"config 'dataset: {config['dataset']}' is not one of the configured datasets "
        f"({', '.join(config['datasets'])}): add it under 'datasets' or pick another."
    )

SCRIPTS = os.path.join(workflow.basedir, "workflow", "scripts")
PACKAGE = os.path.join(workflow.basedir, "ltc")
ENV = "../../envs/ltc.yaml"
METHOD_OF_TAG = {tag: method for method, tag in FILE_TAG.items()}


wildcard_constraints:
    ds="|".join(map(re.escape, config["datasets"])),
    split="train|test",
    tag="|".join(FILE_TAG.values()),
    k=r"\d+",
    shard=r"\d+",
    shards=r"\d+",
    method=rf"(?:{'|'.join(config['methods'])})(?:\+reattach)?",  # <method>+reattach: reattach.smk
    lmethod="|".join(ltc.methods.registry.methods("links")),


def script(name):
    """A rule's command-line script, as an input: editing it reruns the rule."""
    return os.path.join(SCRIPTS, name)


def package(script_name, *loaded):
    """The ``ltc`` files that a rule's script imports, directly or through other ``ltc`` modules (read
    from the import statements, so the list cannot drift from the code), and those of the modules it
    loads by name (``loaded``, e.g. ``methods/infomap.py``), as inputs: editing one reruns the rule."""
    files = set(ltc.imports.package_files(script(script_name), workflow.basedir))
    for module in loaded:
        path = os.path.join(PACKAGE, module)
        files |= {path, *ltc.imports.package_files(path, workflow.basedir)}
    return sorted(files)


def data_dir_of(ds):
    """Params function: the data folder of dataset ``ds``."""
    return lambda wildcards: ltc.datasets.data_dir(config, ds)


def config_key(ds):
    """Where a dataset is set in the config: datasets.<ds>, or datasets.<base>.test_scales.<scale>."""
    base = ltc.datasets.base_of(config, ds)
    return f"datasets.{ds}" if base == ds else f"datasets.{base}.test_scales.{ds.partition('/')[2]}"


def split_of(wildcards, which=None):
    which = which or wildcards.split
    spec = config["datasets"][wildcards.ds]
    if which == "train" and "scale_of" in spec:
        stop(
            f"dataset '{wildcards.ds}' is a test scale of '{spec['scale_of']}' and learns from its train split: "
            f"its trained models and chosen thresholds are under results/{spec['scale_of']}/."
        )
    if which == "test" and which not in spec and "test_scales" in spec:
        stop(
            f"dataset '{wildcards.ds}' has test scales instead of a test split: ask for "
            f"results/{wildcards.ds}/<scale>/... (scales: {', '.join(map(str, spec['test_scales']))}) "
            f"or for their table, results/{wildcards.ds}/scales.md."
        )
    if which not in spec:
        stop(f"dataset '{wildcards.ds}' has no {which} split in the config: add {config_key(wildcards.ds)}.{which}.")
    return ltc.datasets.split(config, wildcards.ds, which)


def existing_or_produced(path, ds, what):
    """``path`` if it exists or a rule makes it; otherwise stop with one sentence saying what to do."""
    if os.path.exists(path) or path in ltc.datasets.produced_files(config, ds):
        return path
    stop(
        f"{what} file {path} of dataset '{ds}' does not exist and no download or generator in the config makes it: "
        f"put the file there or set its path under {config_key(ds)} in the config."
    )


def split_inputs(wildcards):
    s = split_of(wildcards)
    files = {"features": existing_or_produced(s.features, wildcards.ds, "Feature")}
    if s.labels:
        files["labels"] = existing_or_produced(s.labels, wildcards.ds, "Label")
    return files


def test_labels(wildcards):
    s = split_of(wildcards, "test")
    if not s.labels:
        stop(
            f"dataset '{wildcards.ds}' has an unlabelled test split, so it has no scores: "
            f"ask for results/{wildcards.ds}/<method>/pred_labels.meta instead."
        )
    return existing_or_produced(s.labels, wildcards.ds, "Label")


def train_labels(wildcards):
    """The train split's label file, for the rules that learn from it (training, ``auto`` thresholds)."""
    s = split_of(wildcards, "train")
    if not s.labels:
        ds = wildcards.ds
        stop(
            f"dataset '{ds}' has an unlabelled train split, and training a model or choosing an 'auto' threshold "
            f"needs its labels: set {config_key(ds)}.train.labels to its label file, or give the method a number "
            f"for its threshold (and a learned method its trained model: methods.<name>.checkpoint or model_from)."
        )
    return existing_or_produced(s.labels, wildcards.ds, "Label")


def truth_noise(wildcards):
    """``--noise-label N`` for a script reading true labels when `evaluation.noise_label` applies to them
    (noise_in gt or both): those items are each an identity of their own, as the evaluation scores them."""
    evaluation = ltc.datasets.settings(config, wildcards.ds, "evaluation")
    if evaluation.get("noise_label") is None or evaluation.get("noise_in", "gt") == "pred":
        return ""
    return f"--noise-label {int(evaluation['noise_label'])}"


def knn_settings(wildcards):
    return ltc.datasets.settings(config, wildcards.ds, "knn")


def knn_index_options(wildcards):
    """Command-line options of the index the file's tag names (only those: other settings do not rerun it)."""
    knn = knn_settings(wildcards)
    method = METHOD_OF_TAG[wildcards.tag]
    common = f"--batch-size {knn['batch_size']} --seed {knn['seed']}"
    if method == "ivf":
        return f"--nlist {knn['ivf']['nlist']} --nprobe {knn['ivf']['nprobe']} {common}"
    if method == "hnsw":
        hnsw = knn["hnsw"]
        return f"--hnsw-m {hnsw['m']} --ef-construction {hnsw['ef_construction']} --ef-search {hnsw['ef_search']} {common}"
    return ""


def knn_index_file(wildcards):
    """The saved approximate index a kNN shard searches (none for exact search), in the shard's folder."""
    if METHOD_OF_TAG[wildcards.tag] == "flat":
        return []
    return f"results/{wildcards.ds}/{wildcards.knn_dir}/{wildcards.split}/{wildcards.tag}.index"


def knn_shard_files(wildcards):
    """The query shards that the knn rule merges, in order (config knn.shards)."""
    n = knn_settings(wildcards)["shards"]
    w = wildcards
    return [f"results/{w.ds}/{w.knn_dir}/{w.split}/shards/{w.tag}_k_{w.k}.{i}-of-{n}.npz" for i in range(n)]


def knn_k(wildcards, split):
    """The k of a split's kNN file: knn.k, or N if the split's (user-given) feature file has fewer rows."""
    k = knn_settings(wildcards)["k"]
    features = split_of(wildcards, split).features
    if features in ltc.datasets.produced_files(config, wildcards.ds):
        return k
    try:
        n = ltc.io.feature_shape(features, config["datasets"][wildcards.ds]["dim"])[0]
    except ltc.DataError:  # missing or malformed: validate (or split_inputs) says so
        return k
    return min(k, n)


def precomputed_knn_source(wildcards, split, tag=None, k=None):
    """A split's precomputed kNN file in the data folder, or None: knns/NAME/faiss_k_<k>.npz named with
    the k of its file (knn_k) or the configured knn.k. Only exact-search files are taken."""
    knn = knn_settings(wildcards)
    tag = tag or FILE_TAG[knn["method"]]
    if tag != FILE_TAG["flat"]:
        return None
    folder = split_of(wildcards, split).knn_dir
    for candidate in dict.fromkeys([knn_k(wildcards, split) if k is None else int(k), knn["k"]]):
        path = os.path.join(folder, f"{tag}_k_{candidate}.npz")
        if os.path.exists(path):
            return path
    return None


def knn_import_source(wildcards):
    path = precomputed_knn_source(wildcards, wildcards.split, wildcards.tag, wildcards.k)
    if path is None:
        stop(
            f"there is no precomputed kNN file {wildcards.tag}_k_{wildcards.k}.npz in "
            f"{split_of(wildcards).knn_dir} to import: ask for results/{wildcards.ds}/knn/{wildcards.split}/"
            f"{wildcards.tag}_k_{wildcards.k}.npz to build one."
        )
    return path


def synthetic_options(wildcards, output):
    """--<split>-features/--<split>-labels of the splits the generator writes (its outputs, by name)."""
    return " ".join(f"--{name.replace('_', '-')} {shlex.quote(getattr(output, name))}" for name in output.keys())


def learner(wildcards):
    """Wildcards of the dataset whose train split gives a dataset's models and ``auto`` thresholds:
    the dataset itself, or the base of a test scale (which learns exactly what its base learns)."""
    return types.SimpleNamespace(ds=ltc.datasets.base_of(config, wildcards.ds))


def method_settings(wildcards, method):
    return ltc.datasets.settings(config, wildcards.ds, "methods")[method]


def checkpoint_file(value, setting):
    """The file a method's ``checkpoint`` setting names (every input function reading one calls this):
    ``zoo:NAME``, a model of the zoo (config ``models``), is its file under <data_dir>/pretrained_models/,
    which rule download_model_<entry> makes; anything else is a path, as it is. A name not in the zoo
    stops with one sentence listing the zoo's names; ``setting`` (e.g. ``methods.gcnv.checkpoint of
    dataset 'ms1m'``) is where it was set."""
    try:
        return ltc.download.zoo_checkpoint(value, config.get("models"), config["data_dir"], setting)
    except ltc.DataError as err:
        stop(str(err))


def knn_file(wildcards, split=None):
    """A split's kNN file: the checked copy (rule knn_import) of a precomputed one in the data folder if
    there is one, else one we build; its k is knn_k's (knn.k, or N if a user's split is smaller)."""
    split = split or wildcards.split
    name = f"{FILE_TAG[knn_settings(wildcards)['method']]}_k_{knn_k(wildcards, split)}.npz"
    if precomputed_knn_source(wildcards, split):
        return f"results/{wildcards.ds}/knn/{split}/precomputed/{name}"
    return f"results/{wildcards.ds}/knn/{split}/{name}"


def test_knn(wildcards):
    return knn_file(wildcards, "test")








def method_params(wildcards, method):
    """A method's settings for a dataset, as its registered Params (ltc.methods.registry)."""
    return ltc.methods.registry.get(method).settings(method_settings(wildcards, method))


def threshold_name(wildcards, method):
    """The setting that is a method's threshold for a dataset (the registry's), or None."""
    return ltc.methods.registry.get(method).threshold_name(method_params(wildcards, method))


def chosen_threshold(wildcards, method):
    """A method's threshold: a number from the config, or (``auto``) the file that chooses it on a train split."""
    name = threshold_name(wildcards, method)
    value = method_settings(wildcards, method)[name]
    if value != "auto":
        return value
    wildcards = learner(wildcards)
    if "train" in config["datasets"][wildcards.ds] and split_of(wildcards, "train").labels:
        return f"results/{wildcards.ds}/{method}/threshold.json"
    source = method_settings(wildcards, method).get("model_from")
    if source:
        return f"results/{source}/{method}/threshold.json"
    others = [key for key in untrainable_thresholds(wildcards) if key != f"{method}.{name}"]
    also = f" (and, for the other methods of this dataset, {', '.join(others)})" if others else ""
    stop(
        f"dataset '{wildcards.ds}' has no labelled train split to choose {method}'s {name} on (it is 'auto'): "
        f"give it a number, {config_key(wildcards.ds)}.methods.{method}.{name}: <value>{also}, or add a labelled "
        f"train split."
    )


def untrainable_thresholds(wildcards):
    """'method.setting' of every 'auto' threshold of the dataset's methods (its `method` and those it
    compares) that no train split can choose: named together, so one run lists every setting to give."""
    ds = config["datasets"][wildcards.ds]
    names = [config["method"], *ds.get("compare", config.get("compare", []))]
    out = []
    for m in dict.fromkeys(names):
        if m not in config["methods"] or threshold_name(wildcards, m) is None:
            continue
        settings, name = method_settings(wildcards, m), threshold_name(wildcards, m)
        if settings[name] == "auto" and not settings.get("model_from"):
            out.append(f"{m}.{name}")
    return out


def threshold_file(wildcards, method):
    """The input that chooses a method's threshold, if it is chosen on a train split (else no input)."""
    if threshold_name(wildcards, method) is None:
        return []
    value = chosen_threshold(wildcards, method)
    return [value] if isinstance(value, str) else []


def threshold_option(wildcards, method):
    """A script's threshold option: ``--threshold-file`` (chosen on a train split) or ``--threshold-value``."""
    value = chosen_threshold(wildcards, method)
    return f"--threshold-file {shlex.quote(value)}" if isinstance(value, str) else f"--threshold-value {value}"


def settings_json(wildcards, method):
    """A method's config settings for a dataset, as the JSON its scripts take (``--settings``)."""
    return json.dumps(method_settings(wildcards, method), sort_keys=True)


COSTS = {}  # method -> steps(wildcards): the benchmark file stems its comparison row counts (register_cost)
CONFIDENCES = {}  # method -> file(wildcards): its per-item confidences of a split (register_confidence)


def register_cost(method, steps):
    """Each method's rules file calls it. ``steps(wildcards)`` lists the benchmark file stems (globs made
    from its rules' own ``benchmark:`` paths by :func:`benchmark_stem`) whose time and memory the
    comparison counts toward the method: its own steps and those of other stages it needs, never the
    shared kNN graph of the input features. Each must have run for the dataset (compare.py refuses a
    stem that matches no benchmark file)."""
    COSTS[method] = steps


def register_confidence(method, path):
    """Each method's rules file calls it if the method scores every item: ``path(wildcards)`` (with
    ``ds`` and ``split``) is the .npy of those scores (float32, one per item), shown in clusters.tsv."""
    CONFIDENCES[method] = path


def benchmark_stem(rule_name, wildcards, **values):
    """The benchmark file stem of rule ``rule_name`` for ``wildcards.ds``, its other wildcards set from
    ``values`` and ``*`` where not given (a glob over, e.g., both splits)."""
    stem = os.path.splitext(os.path.basename(str(getattr(rules, rule_name).benchmark)))[0]
    return re.sub(r"\{(\w+)\}", lambda m: glob_escape(values.get(m[1], "*")), stem)


def glob_escape(value):
    return "*" if value == "*" else re.sub(r"([*?\[])", r"[\1]", str(value))


def own_steps(wildcards, method, cluster_rule, select_rule, **values):
    """A method's clustering step and, where its threshold is chosen on this dataset's own train split
    (not a base dataset's or another's), its threshold sweep."""
    steps = [benchmark_stem(cluster_rule, wildcards, **values)]
    if threshold_file(wildcards, method) == [f"results/{wildcards.ds}/{method}/threshold.json"]:
        steps.append(benchmark_stem(select_rule, wildcards, **values))
    return steps
