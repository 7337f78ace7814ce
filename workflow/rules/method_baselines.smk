# The methods that cluster in one step (registered with rules="baseline", ltc/methods/registry.py): the
# original learn-to-cluster project's baselines, Infomap and CDP. One generic rule per stage, the method
# a wildcard; each method's settings are its config `methods.<name>` (a change reruns
# only that method's jobs). A threshold set to `auto` is chosen on the labelled train split.


include: "method_baselines_common.smk"


wildcard_constraints:
    baseline="|".join(BASELINES),


rule select_threshold_baseline:
    input:
        unpack(sweep_inputs),
        script=script("select_threshold_baseline.py"),
        package=lambda wc: baseline_package(wc, "select_threshold_baseline.py"),
    output:
        json="results/{ds}/{baseline}/threshold.json",
        plot=report(
            "results/{ds}/{baseline}/threshold_sweep.png",
            caption="../report/threshold_sweep.rst",
            category="thresholds",
        ),
    params:
        settings=lambda wc: settings_json(wc, wc.baseline),
        options=sweep_options,
        noise=truth_noise,
    conda:
        ENV
    log:
        "results/{ds}/logs/select_threshold_{baseline}.log",
    benchmark:
        "results/{ds}/benchmarks/select_threshold_{baseline}.tsv"
    threads: 1  # the sweeps are single-threaded
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(6 * input.size_mb) + 2000),
    shell:
        "python {input.script} --method {wildcards.baseline} --settings {params.settings:q} {params.options}"
        " --labels {input.labels} {params.noise} --out {output.json} --plot {output.plot} --log {log}"


rule cluster_baseline:
    input:
        unpack(baseline_inputs),
        summary="results/{ds}/validate/test.json",
        script=script("cluster_baseline.py"),
        package=lambda wc: baseline_package(wc, "cluster_baseline.py"),
    output:
        "results/{ds}/{baseline}/pred_labels.meta",
    params:
        settings=lambda wc: settings_json(wc, wc.baseline),
        options=baseline_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/cluster_{baseline}.log",
    benchmark:
        "results/{ds}/benchmarks/cluster_{baseline}.tsv"
    threads: lambda wc: BASELINES[wc.baseline].threads
    resources:
        # the kNN graph's edge lists (a few copies) or the unit features, plus the method's own arrays
        mem_mb=lambda wc, input, attempt: attempt * (int(6 * input.size_mb) + 2000),
    shell:
        "python {input.script} --method {wildcards.baseline} --settings {params.settings:q} {params.options}"
        " --threads {threads} --out {output} --log {log}"
