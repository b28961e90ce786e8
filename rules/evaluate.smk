rule evaluate:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=lambda w: prepared(w.eval_dataset),
    output:
        record=f"{RUN}/eval/{{eval_dataset}}.json",
        confusion=f"{RUN}/eval/{{eval_dataset}}_confusion.csv",
        report=f"{RUN}/eval/{{eval_dataset}}_report.csv",
    log:
        f"{RUN}/logs/evaluate_{{eval_dataset}}.log",
    wildcard_constraints:
        eval_dataset=PREPARED_DATASETS,
    conda:
        env_for
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        run=run_args,
        study=study_json,
    shell:
        "python scripts/evaluate.py {params.run} --threads {threads} "
        "--study-json {params.study:q} --eval-dataset {wildcards.eval_dataset} > {log} 2>&1"


# One job per run evaluates it on all of its study's corrupted sets (one engine start-up, not
# one per set); the records are the evaluate rule's, eval/{dataset}-c-{corruption}-{severity}.*
for _study in corrupted_studies(config):

    rule:
        name:
            f"evaluate_corrupted_{rule_suffix(_study)}"
        input:
            model=model_file,
            record=f"{RUN}/train.json",
            data=corrupted_data,
        output:
            records=corrupted_outputs(_study, ".json"),
            confusion=corrupted_outputs(_study, "_confusion.csv"),
            report=corrupted_outputs(_study, "_report.csv"),
        log:
            f"{RUN}/logs/evaluate_corrupted.log",
        wildcard_constraints:
            study=re.escape(_study),
        conda:
            env_for
        threads: config["threads"]
        resources:
            gpu=gpus,
        params:
            run=run_args,
            study=study_json,
            datasets=corrupted_names,
        shell:
            "python scripts/evaluate.py {params.run} --threads {threads} "
            "--study-json {params.study:q} --eval-dataset {params.datasets:q} > {log} 2>&1"
