"""On SLURM (config cluster.scheduler, set by profiles/slurm): what no node can run is settled
before the first submission. GPU backends on a cluster without GPUs get their skip records on the
submitting node (rules/skip.smk); any other job that fits on no node stops the run with the
numbers."""

# Partition and account of every job (config cluster.partition / cluster.account).
for _rule in workflow.rules:
    for _key in ("partition", "account"):
        if _key in config["cluster"]:
            _rule.resources[f"slurm_{_key}"] = config["cluster"][_key]


onstart:
    if NODES is not None:
        requests = [
            (
                job.rule.name,
                job.threads,
                job.resources.get("mem_mb", 0),
                job.resources.get("gpu", 0),
            )
            for job in workflow.dag.needrun_jobs()
            if not job.is_local
        ]
        problems = cluster.unsatisfiable(requests, NODES)
        if problems:
            sys.exit(
                "No node of the cluster can run these jobs (nothing was submitted):\n  "
                + "\n  ".join(problems)
                + "\nLower `threads` in the config or the rule's resources (profiles/slurm), "
                "or state the nodes' shape under `cluster:` if sinfo is wrong."
            )
