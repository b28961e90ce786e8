"""Runs of a backend this host or cluster cannot use (common.smk's UNAVAILABLE): one light job
per run writes every record the run's steps would (each marked skipped, with the reason), so a
study on a laptop plans no train, evaluate and benchmark job that could only say so."""

if UNAVAILABLE:
    if not config["skip_unavailable"]:
        sys.exit(
            "Config error:\nthese backends cannot run here:\n  "
            + "\n  ".join(UNAVAILABLE.values())
            + "\nRemove them from the studies or set skip_unavailable: true to record them "
            "as skipped."
        )

    localrules:
        skip_run,
        skip_bench,

    # The other per-run rules take only the usable backends (common.smk's usable_backends),
    # and skip_bench every runtime's record but eager's (skip_run's): one rule makes each file.
    # The job writes a whole run folder (empty model, header-only history, eval records); its
    # outputs are the three records later jobs read: the figures read no skipped run's files
    # (plan.figures_inputs), and each declared file costs planning about 0.1 ms a run.
    use rule run_step as skip_run with:
        input:
            data=lambda w: [prepared(name) for name in eval_datasets(w)],
        output:
            train=f"{RUN}/train.json",
            bench=f"{RUN}/bench/{DEFAULT_RUNTIME}.json",
            metrics=f"{RUN}/metrics.json",
        log:
            f"{RUN}/logs/skip_run.log",
        benchmark:
            f"{RUN}/benchmarks/skip_run.tsv"
        wildcard_constraints:
            backend=one_of(UNAVAILABLE),
        conda:
            "../envs/analysis.yaml"
        threads: 1
        resources:
            gpu=0,
        params:
            python=PYTHON["analysis"],
            script="skip_run",
            options=lambda w, output: [
                *(
                    "--reason",
                    UNAVAILABLE[w.backend],
                    "--eval-datasets",
                    *eval_datasets(w),
                ),
                *("--runtime", DEFAULT_RUNTIME, "--bench", output.bench),
                *("--time-to-accuracy-fraction", config["time_to_accuracy_fraction"]),
                *("--output", output.metrics),
            ],

    use rule run_step as skip_bench with:
        input:
            record=f"{RUN}/train.json",
        output:
            record=BENCH,
        log:
            f"{RUN}/logs/benchmark_{{runtime}}.log",
        benchmark:
            f"{RUN}/benchmarks/skip_bench_{{runtime}}.tsv"
        wildcard_constraints:
            backend=one_of(UNAVAILABLE),
            runtime=one_of(
                {r for names in RUNTIMES.values() for r in names} - {DEFAULT_RUNTIME}
            ),
        conda:
            "../envs/analysis.yaml"
        threads: 1
        resources:
            gpu=0,
        params:
            python=PYTHON["analysis"],
            script="benchmark",
            options=["--runtime", "{runtime}", "--output", BENCH],
