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
    shell:
        "{params.python:q} scripts/metrics.py {params.run} --study-json {params.study:q} "
        "--train {input.train:q} --bench {input.bench:q} --evals {input.evals:q} "
        "--output {output:q} > {log:q} 2>&1"
