rule benchmark:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=lambda w: prepared(w.dataset),
    output:
        record=f"{RUN}/bench.json",
    log:
        f"{RUN}/logs/benchmark.log",
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
        "{params.python:q} scripts/benchmark.py {params.run} --threads {threads} "
        "--study-json {params.study:q} > {log} 2>&1"
