# The run's own dataset is evaluated by its train job (rules/train.smk).
ruleorder: train_torch > evaluate
ruleorder: train_numba > evaluate
ruleorder: train_keras > evaluate


rule evaluate:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=lambda w: prepared(w.eval_dataset),
    output:
        record=f"{RUN}/eval/{{eval_dataset}}.json",
        confusion=f"{RUN}/eval/{{eval_dataset}}_confusion.csv",
        report=f"{RUN}/eval/{{eval_dataset}}_report.csv",
        predictions=f"{RUN}/eval/{{eval_dataset}}_predictions.npz",
    log:
        f"{RUN}/logs/evaluate_{{eval_dataset}}.log",
    benchmark:
        f"{RUN}/benchmarks/evaluate_{{eval_dataset}}.tsv"
    conda:
        env_for
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        python=python_for,
        run=run_args,
        study=study_json,
    shell:
        "{params.python:q} scripts/evaluate.py {params.run} --threads {threads} "
        "--study-json {params.study:q} --eval-dataset {wildcards.eval_dataset:q} "
        "> {log:q} 2>&1"


# One job per run evaluates it on all of its corrupted test sets (one engine start-up, one
# output file: the DAG stays small with 50 sets per run).
rule evaluate_corrupted:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=corrupted_data,
    output:
        record=f"{RUN}/eval_corrupted.json",
        predictions=f"{RUN}/eval_corrupted_predictions.npz",
    log:
        f"{RUN}/logs/evaluate_corrupted.log",
    benchmark:
        f"{RUN}/benchmarks/evaluate_corrupted.tsv"
    conda:
        env_for
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        python=python_for,
        run=run_args,
        study=study_json,
        datasets=corrupted_evals,
    shell:
        "{params.python:q} scripts/evaluate_corrupted.py {params.run} --threads {threads} "
        "--study-json {params.study:q} --eval-dataset {params.datasets:q} "
        "--output {output.record:q} > {log:q} 2>&1"
