"""The small batch-size sweep the runtime tests time under (a few calls per point)."""

BENCH = {
    "warmup": 1,
    "repeats": 5,
    "batch_size": None,
    "batch_sizes": [1, 4],
    "max_repeats": 50,
    "max_seconds": 0.05,
    "p99_ci_rel": 0.1,
    "memory_budget_mb": 1024,
}
