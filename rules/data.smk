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
        offline="--offline" if config["offline"] else "--online",
        mirrors=lambda w: json.dumps(config["mirrors"].get(w.source, [])),
    shell:
        "python scripts/download.py --source {wildcards.source} "
        "--filename {wildcards.filename} --output {output} {params.offline} "
        "--mirrors {params.mirrors:q} 2>&1 | tee {log}"


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
        spec=lambda w: json.dumps(dataset_spec(config, w.dataset)),
        downloads=f"{DATA}/downloads",
        output_dir=lambda w: f"{DATA}/prepared/{w.dataset}",
    shell:
        "python scripts/prepare.py --dataset {wildcards.dataset} --spec {params.spec:q} "
        "--downloads {params.downloads} --output-dir {params.output_dir} "
        "> {log} 2>&1"


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
        base_dir=lambda w, input: os.path.dirname(input[0]),
        output_dir=lambda w, output: os.path.dirname(output.meta),
        seed=config["corruption_seed"],
    shell:
        "python scripts/corrupt.py --base-dir {params.base_dir:q} "
        "--corruption {wildcards.corruption:q} --severity {wildcards.severity:q} "
        "--seed {params.seed:q} --output-dir {params.output_dir:q} > {log:q} 2>&1"
