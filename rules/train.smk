# A train job also evaluates its model on its own dataset (eval/{dataset}.*: one framework
# start-up a run instead of two); rule evaluate makes every other dataset's.
EVAL_OWN = {
    "eval": f"{RUN}/eval/{{dataset}}.json",
    "confusion": f"{RUN}/eval/{{dataset}}_confusion.csv",
    "report": f"{RUN}/eval/{{dataset}}_report.csv",
    "predictions": f"{RUN}/eval/{{dataset}}_predictions.npz",
}


rule train_torch:
    input:
        data=lambda w: prepared(w.dataset),
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.pt",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    log:
        f"{RUN}/logs/train.log",
    benchmark:
        f"{RUN}/benchmarks/train.tsv"
    wildcard_constraints:
        backend=r"torch-[a-z]+",
    conda:
        "../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        python=python_for,
        run=run_args,
        study=study_json,
    shell:
        "{params.python:q} scripts/train.py {params.run} --threads {threads} "
        "--study-json {params.study:q} >> {log:q} 2>&1"


use rule train_torch as train_numba with:
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.npz",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    wildcard_constraints:
        backend=r"numba-[a-z]+",
    conda:
        "../envs/numba.yaml"


use rule train_torch as train_keras with:
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.keras",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    wildcard_constraints:
        backend=r"keras-[a-z]+",
    conda:
        "../envs/tensorflow.yaml"
