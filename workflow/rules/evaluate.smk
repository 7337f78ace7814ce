# Scores of a method's predicted labels against the test split's labels.


rule evaluate:
    input:
        gt=test_labels,
        pred="results/{ds}/{method}/pred_labels.meta",
        code=code("evaluate.py", "metrics.py"),
    output:
        json="results/{ds}/{method}/metrics.json",
        txt="results/{ds}/{method}/fscore.txt",
    params:
        method=lambda wc: wc.method,
    log:
        "results/{ds}/logs/evaluate_{method}.log",
    benchmark:
        "results/{ds}/benchmarks/evaluate_{method}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    shell:
        "python {SCRIPTS}/evaluate.py {input.gt} {input.pred} --method {params.method}"
        " --json-out {output.json} --txt-out {output.txt} --log {log}"


use rule evaluate as evaluate_default with:
    input:
        gt=test_labels,
        pred=f"results/{{ds}}/{config['method']}/pred_labels.meta",
        code=code("evaluate.py", "metrics.py"),
    output:
        json="results/{ds}/metrics.json",
        txt="results/{ds}/fscore.txt",
    params:
        method=config["method"],
    log:
        "results/{ds}/logs/evaluate.log",
    benchmark:
        "results/{ds}/benchmarks/evaluate.tsv"
