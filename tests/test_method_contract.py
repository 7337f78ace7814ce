"""One battery of tests over every registered clustering method (ltc.methods.registry), in the manner
of scikit-learn's common estimator checks: the contract each method states once is checked the same
way for all of them, so a new method is checked by registering it."""
import dataclasses
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from ltc import DataError
from ltc.methods import registry

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
ONE_STEP = [name for name in registry.NAMES if not registry.get(name).learned]  # cluster from defaults


def schema_node(node):
    """A schema node with its $ref followed."""
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rpartition("/")[2]]
    return node


def keys_of_params(params) -> dict:
    """Setting name -> nested dict of the names below it (None for a leaf)."""
    return {f.name: keys_of_params(getattr(params, f.name)) if dataclasses.is_dataclass(getattr(params, f.name))
            else None for f in dataclasses.fields(params)}


def keys_of_schema(node) -> dict:
    node = schema_node(node)
    return {key: keys_of_schema(sub) if schema_node(sub).get("type") == "object" else None
            for key, sub in node["properties"].items()}


def keys_of_config(mapping) -> dict:
    return {key: keys_of_config(value) if isinstance(value, dict) else None for key, value in mapping.items()}


def test_registry_schema_and_config_list_the_same_methods():
    assert list(registry.NAMES) == list(schema_node(SCHEMA["$defs"]["methods"])["properties"])
    assert list(registry.NAMES) == list(CONFIG["methods"])
    assert list(registry.NAMES) == SCHEMA["$defs"]["method_name"]["enum"], "the schema's method_name list"


@pytest.mark.parametrize("name", registry.NAMES)
def test_parameters_equal_schema_and_config_keys(name):
    """Each setting is declared once (Params); the schema knows exactly those keys, and the config's
    global entry lists every one with its default."""
    method = registry.get(name)
    params = method.settings()
    assert keys_of_params(params) == keys_of_schema(SCHEMA["$defs"]["methods"]["properties"][name])
    assert keys_of_params(params) == keys_of_config(CONFIG["methods"][name])
    assert registry.defaults(method) == CONFIG["methods"][name], "config.yaml's methods entry repeats the defaults"


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_parameter_is_documented_and_frozen(name):
    def check(params, where):
        assert dataclasses.is_dataclass(params) and type(params).__dataclass_params__.frozen, where
        for f in dataclasses.fields(params):
            assert len(f.metadata.get("doc", "")) > 5, f"{where}.{f.name} has no doc"
            value = getattr(params, f.name)
            if dataclasses.is_dataclass(value):
                check(value, f"{where}.{f.name}")
    check(registry.get(name).settings(), f"methods.{name}")
    assert registry.get(name).summary


@pytest.mark.parametrize("name", registry.NAMES)
def test_threshold_is_a_setting_that_may_be_auto(name):
    method = registry.get(name)
    setting = method.threshold_name()
    if setting is None:
        return
    node = {**SCHEMA["$defs"]["methods"]["properties"][name]["properties"][setting], "$defs": SCHEMA["$defs"]}
    jsonschema.validate("auto", node)  # a number or 'auto'
    assert getattr(method.settings(), setting) == "auto", "thresholds are chosen on train unless a user sets them"
    if method.rules != "links":  # link methods' thresholds are swept by link_clustering.smk's rule
        assert method.sweeper is not None, "a threshold that may be 'auto' needs a sweep to choose it"


@pytest.mark.parametrize("name", registry.NAMES)
def test_unknown_setting_is_refused_in_one_sentence(name):
    with pytest.raises(DataError) as err:
        registry.get(name).settings({"no_such_setting": 1})
    message = str(err.value)
    assert f"methods.{name} has no setting no_such_setting" in message and message.count(". ") == 0


def blobs(n_per=12, centres=4, dim=16, seed=0):
    """Unit rows around ``centres`` orthogonal directions, and the exact kNN of all N (self first)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.eye(dim)[:centres], n_per, axis=0) + 0.15 * rng.standard_normal((centres * n_per, dim))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    sims = x @ x.T
    ids = np.argsort(-sims, axis=1, kind="stable")
    dists = (1 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)
    return x, ids.astype(np.int64), np.maximum(dists, 0)


def resolved(method, data):
    """Settings with no 'auto' left: the true count for n_clusters, the median candidate for a threshold."""
    settings = {}
    if method.n_clusters:
        settings["n_clusters"] = 4
    setting = method.threshold_name()
    if setting:
        _, values = method.sweeper(method.settings(settings), data)
        settings[setting] = float(np.median(values))
    return settings


@pytest.mark.parametrize("name", ONE_STEP)
def test_labels_are_int64_numbered_in_order_of_first_point_and_repeatable(name):
    x, ids, dists = blobs()
    data = registry.Data(ids, dists, x, threads=1)
    method = registry.get(name)
    settings = resolved(method, data)
    labels = method.run(method.settings(settings), data)
    assert labels.dtype == np.int64 and labels.shape == (len(x),)
    first = np.unique(labels, return_index=True)[1]
    assert np.array_equal(labels[np.sort(first)], np.arange(len(first))), "clusters numbered 0, 1, ... by first point"
    again = method.run(method.settings(settings), registry.Data(ids.copy(), dists.copy(), x.copy(), threads=1))
    assert np.array_equal(labels, again), "the same settings and seed give the same labels"


@pytest.mark.parametrize("name", [n for n in ONE_STEP if registry.get(n).threshold_name()])
def test_a_sweep_at_t_equals_a_run_at_t(name):
    """Choosing a threshold on train must pick what clustering at that threshold gives."""
    x, ids, dists = blobs()
    data = registry.Data(ids, dists, x, threads=1)
    method = registry.get(name)
    settings = resolved(method, data)
    setting = method.threshold_name()
    cluster_at, values = method.sweeper(method.settings(settings), data)
    for t in np.quantile(values, [0.1, 0.5, 0.9]):
        ran = method.run(method.settings({**settings, setting: float(t)}), data)
        assert np.array_equal(cluster_at(float(t)), ran), f"{name} at {setting} = {t}"


@pytest.mark.parametrize("name", registry.NAMES)
def test_a_thresholds_example_is_the_published_value_config_yaml_gives_ms1m(name):
    """A refusal quotes the threshold's example; the ms1m entry of config.yaml carries the same value."""
    method = registry.get(name)
    setting = method.threshold_name()
    ms1m = CONFIG["datasets"]["ms1m"].get("methods", {}).get(name, {})
    for key in {setting, *(k for k in ("tau", "tau_0") if k in ms1m)} - {None}:
        if key in ms1m:
            assert registry.example(f"methods.{name}.{key}") == ms1m[key], f"methods.{name}.{key}"
