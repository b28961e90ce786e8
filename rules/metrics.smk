rule metrics:
    input:
        unpack(metrics_inputs),
    output:
        f"{RUN}/metrics.json",
    log:
        f"{RUN}/logs/metrics.log",
    conda:
        "../envs/analysis.yaml"
    params:
        run=run_args,
        study=study_json,
        fraction=config["time_to_accuracy_fraction"],
    shell:
        "python scripts/metrics.py {params.run} --study-json {params.study:q} "
        "--train {input.train} --bench {input.bench} --evals {input.evals} "
        "--corrupted {input.corrupted:q} --history {input.history:q} "
        "--time-to-accuracy-fraction {params.fraction:q} "
        "--output {output} > {log} 2>&1"
