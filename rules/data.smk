localrules:
    download,


rule download:
    output:
        f"{DATA}/downloads/{{source}}/{{filename}}",
    log:
        f"{DATA}/logs/download/{{source}}/{{filename}}.log",
    wildcard_constraints:
        source="|".join(registry.DOWNLOADED_FORMATS),
        filename=r"[^/]+",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        offline="--offline" if config["offline"] else "--online",
        mirrors=lambda w: json.dumps(config["mirrors"].get(w.source, [])),
    shell:
        "{params.python:q} scripts/download.py --source {wildcards.source:q} "
        "--filename {wildcards.filename:q} --output {output:q} {params.offline} "
        "--mirrors {params.mirrors:q} 2>&1 | tee {log:q}"


rule prepare:
    input:
        download_files,
    output:
        meta=f"{DATA}/prepared/{{dataset}}/meta.json",
        arrays=multiext(
            f"{DATA}/prepared/{{dataset}}/",
            "train_x.npy",
            "train_y.npy",
            "test_x.npy",
            "test_y.npy",
        ),
    log:
        f"{DATA}/logs/prepare/{{dataset}}.log",
    wildcard_constraints:
        dataset=PREPARED_DATASETS,
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        spec=lambda w: json.dumps(dataset_spec(config, w.dataset)),
        downloads=f"{DATA}/downloads",
        output_dir=lambda w: f"{DATA}/prepared/{w.dataset}",
        sources=dataset_sources,
    shell:
        "{params.python:q} scripts/prepare.py --dataset {wildcards.dataset:q} --spec {params.spec:q} "
        "--downloads {params.downloads:q} --output-dir {params.output_dir:q} "
        "> {log:q} 2>&1"


rule corrupt:
    input:
        f"{DATA}/prepared/{{dataset}}/meta.json",
    output:
        meta=f"{DATA}/prepared/{{dataset}}-c-{{corruption}}-{{severity}}/meta.json",
        arrays=multiext(
            f"{DATA}/prepared/{{dataset}}-c-{{corruption}}-{{severity}}/",
            "train_x.npy",
            "train_y.npy",
            "test_x.npy",
            "test_y.npy",
        ),
    log:
        f"{DATA}/logs/corrupt/{{dataset}}-c-{{corruption}}-{{severity}}.log",
    wildcard_constraints:
        dataset=PREPARED_DATASETS,
        corruption="|".join(registry.CORRUPTIONS),
        severity="[1-5]",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        base_dir=lambda w, input: os.path.dirname(input[0]),
        output_dir=lambda w, output: os.path.dirname(output.meta),
        seed=config["corruption_seed"],
    shell:
        "{params.python:q} scripts/corrupt.py --base-dir {params.base_dir:q} "
        "--corruption {wildcards.corruption:q} --severity {wildcards.severity:q} "
        "--seed {params.seed:q} --output-dir {params.output_dir:q} > {log:q} 2>&1"
