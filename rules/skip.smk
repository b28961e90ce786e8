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

    ruleorder: skip_run > train_torch
    ruleorder: skip_run > train_numba
    ruleorder: skip_run > train_keras
    ruleorder: skip_run > evaluate
    ruleorder: skip_run > benchmark
    ruleorder: skip_run > metrics
    ruleorder: skip_run > skip_bench
    ruleorder: skip_bench > benchmark

    rule skip_run:
        input:
            data=lambda w: [prepared(name) for name in eval_datasets(w)],
        output:
            train=f"{RUN}/train.json",
            history=f"{RUN}/history.csv",
            eval=f"{RUN}/eval/{{dataset}}.json",
            confusion=f"{RUN}/eval/{{dataset}}_confusion.csv",
            report=f"{RUN}/eval/{{dataset}}_report.csv",
            predictions=f"{RUN}/eval/{{dataset}}_predictions.npz",
            bench=f"{RUN}/bench/{DEFAULT_RUNTIME}.json",
            metrics=f"{RUN}/metrics.json",
        log:
            f"{RUN}/logs/skip_run.log",
        benchmark:
            f"{RUN}/benchmarks/skip_run.tsv"
        wildcard_constraints:
            backend="|".join(map(re.escape, UNAVAILABLE)),
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            run=run_args,
            study=study_json,
            evals=eval_datasets,
            reason=lambda w: UNAVAILABLE[w.backend],
            runtime=DEFAULT_RUNTIME,
            fraction=config["time_to_accuracy_fraction"],
        shell:
            "{params.python:q} scripts/skip_run.py {params.run} --threads 1 "
            "--study-json {params.study:q} --reason {params.reason:q} "
            "--eval-datasets {params.evals:q} --runtime {params.runtime:q} "
            "--bench {output.bench:q} --time-to-accuracy-fraction {params.fraction:q} "
            "--output {output.metrics:q} > {log:q} 2>&1"

    rule skip_bench:
        input:
            record=f"{RUN}/train.json",
        output:
            record=f"{RUN}/bench/{{runtime}}.json",
        log:
            f"{RUN}/logs/benchmark_{{runtime}}.log",
        benchmark:
            f"{RUN}/benchmarks/skip_bench_{{runtime}}.tsv"
        wildcard_constraints:
            backend="|".join(map(re.escape, UNAVAILABLE)),
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            run=run_args,
            study=study_json,
        shell:
            "{params.python:q} scripts/benchmark.py {params.run} --threads 1 "
            "--study-json {params.study:q} --runtime {wildcards.runtime:q} "
            "--output {output.record:q} > {log:q} 2>&1"
