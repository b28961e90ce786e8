rule benchmark:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=lambda w: prepared(w.dataset),
    output:
        record=f"{RUN}/bench/{{runtime}}.json",
    log:
        f"{RUN}/logs/benchmark_{{runtime}}.log",
    benchmark:
        f"{RUN}/benchmarks/benchmark_{{runtime}}.tsv"
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
        "--runtime {wildcards.runtime:q} --output {output.record:q} "
        "--study-json {params.study:q} > {log:q} 2>&1"
