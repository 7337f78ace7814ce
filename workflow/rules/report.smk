# Comparison of the methods listed under `compare` (or datasets.<ds>.compare) on one dataset:
# results/<ds>/comparison.{tsv,md,html} and results/<ds>/comparison/*.png, all in the Snakemake report.
# `snakemake --cores 2 results/<ds>/all` runs every compared method and builds them; add
# `--report results/<ds>/report.html --report-after-run` for the self-contained HTML report.
include: "report_common.smk"


rule compare:
    input:
        metrics=lambda wc: [f"results/{wc.ds}/{m}/metrics.json" for m in compare_methods(wc)],
        pred=lambda wc: [f"results/{wc.ds}/{m}/pred_labels.meta" for m in compare_methods(wc)],
        gt=test_labels,
        sweeps=lambda wc: list(compare_sweep_files(wc).values()),
        script=script("compare.py"),
        package=package("compare.py"),
    output:
        tsv=report(
            "results/{ds}/comparison.tsv",
            caption="../report/comparison_table.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "5. table (TSV, to download)"},
        ),
        md="results/{ds}/comparison.md",
        html=report(
            "results/{ds}/comparison.html",
            caption="../report/comparison_table.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "1. table"},
        ),
        scores=report(
            "results/{ds}/comparison/scores.png",
            caption="../report/comparison_scores.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "2. scores, time, memory"},
        ),
        sizes=report(
            "results/{ds}/comparison/cluster_sizes.png",
            caption="../report/comparison_sizes.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "3. cluster sizes"},
        ),
        sweeps=report(
            "results/{ds}/comparison/threshold_sweeps.png",
            caption="../report/comparison_sweeps.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "4. F-score versus threshold"},
        ),
    params:
        options=compare_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/compare.log",
    benchmark:
        "results/{ds}/benchmarks/compare.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: attempt * (int(4 * input.size_mb) + 1000),
    shell:
        "python {input.script} --dataset {wildcards.ds} --gt {input.gt} --metrics {input.metrics}"
        " --pred {input.pred} --benchmarks results/{wildcards.ds}/benchmarks {params.options}"
        " --tsv {output.tsv} --md {output.md} --html {output.html} --scores {output.scores}"
        " --sizes {output.sizes} --sweeps {output.sweeps} --log {log}"


rule compare_all:
    """results/<ds>/all: every method under `compare` run, scored and compared (a flag file); for a
    dataset with test scales, at every scale, with each scale's headline scores and the scale table."""
    input:
        everything_compared,
    output:
        touch("results/{ds}/all"),
    localrule: True


rule compare_scales:
    """results/<ds>/scales.{tsv,md,png}: the comparisons of a dataset's test scales, side by side."""
    input:
        comparisons=lambda wc: [f"results/{wc.ds}/{s}/comparison.tsv" for s in test_scales(wc)],
        validations=lambda wc: [f"results/{wc.ds}/{s}/validate/test.json" for s in test_scales(wc)],
        script=script("compare_scales.py"),
        package=package("compare_scales.py"),
    output:
        tsv=report(
            "results/{ds}/scales.tsv",
            caption="../report/scales.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "7. scales (TSV, to download)"},
        ),
        md=report(
            "results/{ds}/scales.md",
            caption="../report/scales.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "6. scales"},
        ),
        plot=report(
            "results/{ds}/scales.png",
            caption="../report/scales.rst",
            category="Comparison",
            subcategory="{ds}",
            labels={"dataset": "{ds}", "result": "8. scores and time against scale"},
        ),
    params:
        scales=lambda wc: " ".join(test_scales(wc)),
    conda:
        ENV
    log:
        "results/{ds}/logs/compare_scales.log",
    benchmark:
        "results/{ds}/benchmarks/compare_scales.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
    shell:
        "python {input.script} --dataset {wildcards.ds} --scales {params.scales}"
        " --comparisons {input.comparisons} --validations {input.validations}"
        " --tsv {output.tsv} --md {output.md} --plot {output.plot} --log {log}"
