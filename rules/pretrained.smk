# A study's `pretrained:` models (tradeoffs.pretrained) are imported, not trained: this job
# writes what a train job writes (model file, history, train.json, own-dataset evaluation), so
# evaluate, benchmark, runtimes, corrupted sets, metrics and tables take them unchanged. Its
# `benchmark:` file is the run's train step (the timings table counts it as train). Defined only
# when a study has `pretrained:` models: a rule that can make no file would still be matched
# against every run file the plan looks up.
if PRETRAINED:

    use rule run_step as import_pretrained_torch with:
        input:
            data=prepared("{dataset}"),
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
            backend=usable_backends("torch"),
            model=one_of(PRETRAINED),
        conda:
            "../envs/torch.yaml"
        params:
            script="import_pretrained",
            redirect=">>",

    use rule import_pretrained_torch as import_pretrained_keras with:
        output:
            **EVAL_OWN,
            model=f"{RUN}/model.keras",
            history=f"{RUN}/history.csv",
            record=f"{RUN}/train.json",
        wildcard_constraints:
            backend=usable_backends("keras"),
            model=one_of(PRETRAINED),
        conda:
            "../envs/tensorflow.yaml"

    ruleorder: import_pretrained_torch > train_torch
    ruleorder: import_pretrained_keras > train_keras
    ruleorder: import_pretrained_torch > evaluate
    ruleorder: import_pretrained_keras > evaluate
