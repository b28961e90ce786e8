# The run's own dataset is evaluated by its train job (rules/train.smk).
ruleorder: train_torch > evaluate
ruleorder: train_numba > evaluate
ruleorder: train_keras > evaluate


use rule run_step as evaluate with:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=prepared("{eval_dataset}"),
    output:
        record=f"{RUN}/eval/{{eval_dataset}}.json",
        confusion=f"{RUN}/eval/{{eval_dataset}}_confusion.csv",
        report=f"{RUN}/eval/{{eval_dataset}}_report.csv",
        predictions=f"{RUN}/eval/{{eval_dataset}}_predictions.npz",
    log:
        f"{RUN}/logs/evaluate_{{eval_dataset}}.log",
    benchmark:
        f"{RUN}/benchmarks/evaluate_{{eval_dataset}}.tsv"
    params:
        script="evaluate",
        options=["--eval-dataset", "{eval_dataset}"],


# One job per run evaluates it on all of its corrupted test sets (one engine start-up, one
# output file: the DAG stays small with 50 sets per run).
use rule run_step as evaluate_corrupted with:
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
    params:
        script="evaluate_corrupted",
        options=lambda w, output: [
            *("--eval-dataset", *corrupted_evals(w)),
            *("--output", output.record),
        ],
