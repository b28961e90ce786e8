rule benchmark:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=lambda w: prepared(w.dataset),
    output:
        record=f"{RUN}/bench.json",
    log:
        f"{RUN}/logs/benchmark.log",
    benchmark:
        f"{RUN}/benchmarks/benchmark.tsv"
    conda:
        env_for
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        run=run_args,
        study=study_json,
    shell:
        "python scripts/benchmark.py {params.run} --threads {threads} "
        "--study-json {params.study:q} > {log} 2>&1"
