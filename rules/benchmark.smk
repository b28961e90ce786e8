use rule run_step as benchmark with:
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
    priority: served_first
    params:
        script="benchmark",
        options=lambda w, output: ["--runtime", w.runtime, "--output", output.record],
