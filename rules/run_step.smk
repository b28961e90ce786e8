# The job every per-run step is (train, evaluate, benchmark, metrics, skip): the run's
# interpreter, its arguments (identity, folders, study config), the step's script and options,
# one log and one benchmark record. A step's rule is this one with its files and options
# (`use rule run_step as STEP with:`); this rule has no output, so it never runs itself.


rule run_step:
    log:
        f"{RUN}/logs/run_step.log",
    wildcard_constraints:
        backend=usable_backends(),
    conda:
        env_for
    threads: config["threads"]
    resources:
        gpu=gpus,
    params:
        python=python_for,
        run=run_args,
        options=[],
        redirect=">",
    shell:
        "{params.python:q} scripts/{params.script}.py {params.run} --threads {threads} "
        "{params.options:q} {params.redirect} {log:q} 2>&1"
