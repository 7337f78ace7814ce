# Scores of a method's predicted labels against the test split's labels; the configured `method`'s
# scores are also the dataset's headline results/<ds>/{fscore.txt,metrics.json}.


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
    conda:
        ENV
    log:
        "results/{ds}/logs/evaluate_{method}.log",
    benchmark:
        "results/{ds}/benchmarks/evaluate_{method}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    shell:
        "python {input.script} {input.gt} {input.pred} --method {params.method}"
        " --json-out {output.json} --txt-out {output.txt} --log {log}"


rule default_method_scores:
    input:
        json=f"results/{{ds}}/{config['method']}/metrics.json",
        txt=f"results/{{ds}}/{config['method']}/fscore.txt",
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
