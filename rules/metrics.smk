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
        run=run_args,
        study=study_json,
    shell:
        "python scripts/metrics.py {params.run} --study-json {params.study:q} "
        "--train {input.train} --bench {input.bench} --evals {input.evals} "
        "--output {output} > {log} 2>&1"
