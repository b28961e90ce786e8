"""Model definitions, one sub-package per framework."""
