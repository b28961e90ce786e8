# A train job also evaluates its model on its own dataset (eval/{dataset}.*: one framework
# start-up a run instead of two); rule evaluate makes every other dataset's.
EVAL_OWN = {
    "eval": f"{RUN}/eval/{{dataset}}.json",
    "confusion": f"{RUN}/eval/{{dataset}}_confusion.csv",
    "report": f"{RUN}/eval/{{dataset}}_report.csv",
    "predictions": f"{RUN}/eval/{{dataset}}_predictions.npz",
}


# The log is appended to: a resumed job adds its lines to the interrupted one's.
use rule run_step as train_torch with:
    input:
        data=prepared("{dataset}"),
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
        backend=usable_backends("torch"),
    priority: served_first
    conda:
        "../envs/torch.yaml"
    params:
        script="train",
        redirect=">>",


use rule train_torch as train_numba with:
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.npz",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    wildcard_constraints:
        backend=usable_backends("numba"),
    conda:
        "../envs/numba.yaml"


use rule train_torch as train_keras with:
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.keras",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    wildcard_constraints:
        backend=usable_backends("keras"),
    conda:
        "../envs/tensorflow.yaml"
