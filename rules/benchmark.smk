use rule run_step as benchmark with:
    input:
        model=model_file,
        record=f"{RUN}/train.json",
        data=prepared("{dataset}"),
    output:
        record=BENCH,
    log:
        f"{RUN}/logs/benchmark_{{runtime}}.log",
    benchmark:
        f"{RUN}/benchmarks/benchmark_{{runtime}}.tsv"
    priority: served_first
    params:
        script="benchmark",
        options=["--runtime", "{runtime}", "--output", BENCH],
