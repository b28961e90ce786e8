"""Seed 004's CNN written directly in numba: `cpu` (njit, prange) and `cuda` (cuda.jit)."""

MODELS = ("mnist_cnn",)  # the registry names this framework implements (one hand-written net)
