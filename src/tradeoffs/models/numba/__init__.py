"""Seed 004's CNN written directly in numba: `cpu` (njit, prange) and `cuda` (cuda.jit)."""
