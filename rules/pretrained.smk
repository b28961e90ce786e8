# A study's `pretrained:` models (tradeoffs.pretrained) are imported, not trained: this job
# writes what a train job writes (model file, history, train.json, own-dataset evaluation), so
# evaluate, benchmark, runtimes, corrupted sets, metrics and tables take them unchanged. Its
# `benchmark:` file is the run's train step (timing_files).
rule import_pretrained_torch:
    input:
        data=lambda w: prepared(w.dataset),
        source=pretrained_file,
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
        model=PRETRAINED_MODEL,
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
        "{params.python:q} scripts/import_pretrained.py {params.run} --threads {threads} "
        "--study-json {params.study:q} >> {log:q} 2>&1"


use rule import_pretrained_torch as import_pretrained_keras with:
    output:
        **EVAL_OWN,
        model=f"{RUN}/model.keras",
        history=f"{RUN}/history.csv",
        record=f"{RUN}/train.json",
    wildcard_constraints:
        backend=r"keras-[a-z]+",
        model=PRETRAINED_MODEL,
    conda:
        "../envs/tensorflow.yaml"


ruleorder: import_pretrained_torch > train_torch
ruleorder: import_pretrained_keras > train_keras
ruleorder: import_pretrained_torch > evaluate
ruleorder: import_pretrained_keras > evaluate


if UNAVAILABLE:

    ruleorder: skip_run > import_pretrained_torch
    ruleorder: skip_run > import_pretrained_keras
