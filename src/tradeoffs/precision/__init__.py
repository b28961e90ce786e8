"""Number formats for torch models: the seed's learnable FP2-FP8 and the OCP FP8/FP6/FP4 formats.

Interface the torch engine uses:
- quantize_model(model, precision, cfg) -> the model, its layers' weights and inputs quantised
- freeze_weights(model) -> the quantised weights stored, computed once (inference)
- log_softmax(logits, precision) -> log-probabilities computed at `precision`
- footprint_mb(model, precision, cfg) -> stored size of the parameters at `precision`
  (fp32_footprint_mb(model): the same at fp32)
cfg is the study's `quantization` entry: scale (tensor|block32), first_last (fp32|quantized).
"""

from tradeoffs.precision.footprint import footprint_mb, fp32_footprint_mb
from tradeoffs.precision.modules import freeze_weights, quantize_model
from tradeoffs.precision.softmax import log_softmax

__all__ = [
    "footprint_mb",
    "fp32_footprint_mb",
    "freeze_weights",
    "log_softmax",
    "quantize_model",
]
