"""An ONNX file as a torch module: each forward runs the graph in ONNX Runtime (CPU), so the
torch engine evaluates and times a pretrained ONNX model (a study's `pretrained:` entry with
`framework: onnx`) as it does its own. The graph takes float NCHW images as the engine feeds
every model (the dataset's images at the run's shape, standardised by the training set's
per-channel statistics) and returns num_classes logits. ONNX Runtime runs graph operators
only: loading a file executes none of its content as Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from tradeoffs.records.nulls import measured, not_binary


class OnnxModule(nn.Module):
    def __init__(self, path: str | Path, threads: int = 1) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.path = str(path)
        self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feed = {self.input_name: x.detach().float().cpu().numpy()}
        out = self.session.run(None, feed)[0]
        return torch.from_numpy(np.ascontiguousarray(out)).to(x.device)


def onnx_facts(path: Path) -> dict:
    """train.json's facts of an ONNX file: parameters and bytes of its initializers (weights),
    its size on disk; FLOPs are not counted for a graph torch does not see."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    count = sum(int(np.prod(init.dims)) for init in graph.initializer)
    nbytes = sum(
        int(np.prod(init.dims)) * onnx.helper.tensor_dtype_to_np_dtype(init.data_type).itemsize
        for init in graph.initializer
    )
    reason = "not counted for an ONNX graph (run by ONNX Runtime, not torch)"
    mb = 2**20
    return {
        "params": count,
        "size_disk_mb": path.stat().st_size / mb,
        "size_mem_mb": nbytes / mb,
        "est_footprint_mb": nbytes / mb,
        **measured("flops", None, reason),
        **measured("macs", None, reason),
        **not_binary(),
    }
