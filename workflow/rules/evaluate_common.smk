# Input functions of evaluate.smk: the configured `method`, or (`method: auto`) the one chosen on the
# labelled train split (checkpoint choose_method, ltc/method_choice.py); the `evaluation` options.


def choose_method_options(wildcards, input):
    """The candidates' threshold files and, for each compared method left out, why (recorded in method.json)."""
    candidates = compare_sweep_files(wildcards)
    left_out = {}
    for method in compare_methods(wildcards):
        if method in candidates or method not in config["methods"]:  # <method>+reattach: not a candidate
            continue
        name = threshold_name(wildcards, method)
        if name is None:
            left_out[method] = "it has no threshold chosen on train, so nothing was measured there"
        else:
            value = method_settings(wildcards, method)[name]
            left_out[method] = f"its threshold is fixed (methods.{method}.{name} = {value}), so nothing was measured on train"
    options = "--candidate " + " ".join(shlex.quote(f"{m}={getattr(input, m)}") for m in candidates)
    if left_out:
        options += " --left-out " + " ".join(shlex.quote(f"{m}={why}") for m, why in left_out.items())
    return options


def default_method(wildcards):
    """The dataset's headline method: config `method`, or the one `method: auto` chose for it."""
    if config["method"] != "auto":
        return config["method"]
    if not compare_sweep_files(wildcards):
        stop(
            f"method: auto has no candidate on dataset '{wildcards.ds}': no compared method has its threshold "
            f"chosen on a labelled train split; set `method:` to a method name, or give the dataset a labelled "
            f"train split and leave the thresholds at auto."
        )
    return ltc.method_choice.chosen(checkpoints.choose_method.get(ds=wildcards.ds).output[0])


def noise_options(wildcards):
    """evaluate.py's --noise-label/--noise-in from `evaluation` (datasets.<ds>.evaluation overrides it)."""
    evaluation = ltc.datasets.settings(config, wildcards.ds, "evaluation")
    if evaluation.get("noise_label") is None:
        return ""
    return f"--noise-label {int(evaluation['noise_label'])} --noise-in {evaluation.get('noise_in', 'gt')}"
