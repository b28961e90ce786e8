use rule run_step as metrics with:
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
    threads: 1
    resources:
        gpu=0,
    params:
        python=PYTHON["analysis"],
        script="metrics",
        options=lambda w, input, output: [
            *("--train", input.train, "--bench", input.bench, "--evals", *input.evals),
            *("--corrupted", *input.corrupted, "--history", input.history),
            *("--time-to-accuracy-fraction", config["time_to_accuracy_fraction"]),
            *("--output", output[0]),
        ],
