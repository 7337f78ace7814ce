# ltc-workflow: cluster face (and other) embeddings with the learn-to-cluster family of methods.
# data (synthesize | download) -> validate -> knn -> cluster (one rule file per method) -> evaluate
from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/knn.smk"
include: "workflow/rules/method_knn_cc.smk"
include: "workflow/rules/method_baselines.smk"
include: "workflow/rules/method_gcnv.smk"
include: "workflow/rules/method_gcne.smk"
include: "workflow/rules/method_gcnd.smk"
include: "workflow/rules/method_lgcn.smk"
include: "workflow/rules/method_learned_infomap.smk"
include: "workflow/rules/link_clustering.smk"
include: "workflow/rules/reattach.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/clusters.smk"
include: "workflow/rules/assign.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        f"results/{config['dataset']}/fscore.txt",
