"""One machine's records packed for another (results/bundles/{host}.tar.gz; import with
`make import BUNDLE=...`)."""


localrules:
    bundle,


rule bundle:
    # Functions: the file lists are built only when a bundle is asked for, not in every plan.
    input:
        metrics=lambda w: [
            f"{run.folder(RESULTS)}/metrics.json" for run in all_runs(config)
        ],
        bench=lambda w: [f for study in config["studies"] for f in study_bench(study)],
    output:
        f"{RESULTS}/bundles/{HOST}.tar.gz",
    log:
        f"{RESULTS}/bundles/logs/{HOST}.log",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        results=lambda w, output: os.path.dirname(os.path.dirname(output[0])),
        host=HOST,
        config=json.dumps(config, sort_keys=True, default=str),
        models="--models" if config["bundle_models"] else "",
    shell:
        "{params.python:q} scripts/bundle.py --results {params.results:q} --host {params.host:q} "
        "--config-json {params.config:q} {params.models} --output {output:q} > {log:q} 2>&1"
