# Scores of a method's predicted labels against the test split's labels; the configured `method`'s
# scores are also the dataset's headline results/<ds>/{fscore.txt,metrics.json}. With `method: auto`
# the headline method is the compared one of best pairwise F on the labelled train split
# (results/<ds>/method.json says which, and the table it was chosen from).


include: "evaluate_common.smk"


rule evaluate:
    input:
        gt=test_labels,
        pred="results/{ds}/{method}/pred_labels.meta",
        script=script("evaluate.py"),
        package=package("evaluate.py"),
    output:
        json="results/{ds}/{method}/metrics.json",
        txt="results/{ds}/{method}/fscore.txt",
    params:
        method=lambda wc: wc.method,
        noise=noise_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/evaluate_{method}.log",
    benchmark:
        "results/{ds}/benchmarks/evaluate_{method}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
    shell:
        "python {input.script} {input.gt} {input.pred} --method {params.method} {params.noise}"
        " --json-out {output.json} --txt-out {output.txt} --log {log}"


checkpoint choose_method:
    input:
        unpack(lambda wc: compare_sweep_files(wc)),  # the candidates: each threshold.json chosen on train (report_common.smk)
        script=script("choose_method.py"),
        package=package("choose_method.py"),
    output:
        "results/{ds}/method.json",
    params:
        options=choose_method_options,
    conda:
        ENV
    log:
        "results/{ds}/logs/choose_method.log",
    benchmark:
        "results/{ds}/benchmarks/choose_method.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
    shell:
        "python {input.script} {params.options} --out {output} --log {log}"


rule default_method_scores:
    input:
        json=lambda wc: f"results/{wc.ds}/{default_method(wc)}/metrics.json",
        txt=lambda wc: f"results/{wc.ds}/{default_method(wc)}/fscore.txt",
    output:
        json="results/{ds}/metrics.json",
        txt="results/{ds}/fscore.txt",
    conda:
        ENV
    log:
        "results/{ds}/logs/default_method_scores.log",
    localrule: True
    shell:
        "(cp {input.json} {output.json} && cp {input.txt} {output.txt}) 2> {log}"
