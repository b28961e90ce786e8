rule metrics:
    input:
        unpack(metrics_inputs),
    output:
        f"{RUN}/metrics.json",
    log:
        f"{RUN}/logs/metrics.log",
    benchmark:
        f"{RUN}/benchmarks/metrics.tsv"
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        run=run_args,
        study=study_json,
        fraction=config["time_to_accuracy_fraction"],
    shell:
        "{params.python:q} scripts/metrics.py {params.run} --study-json {params.study:q} "
        "--train {input.train:q} --bench {input.bench:q} --evals {input.evals:q} "
        "--corrupted {input.corrupted:q} --history {input.history:q} "
        "--time-to-accuracy-fraction {params.fraction:q} "
        "--output {output:q} > {log:q} 2>&1"
