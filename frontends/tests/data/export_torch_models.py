#!/usr/bin/python3
"""Regenerates the torch-exported test models of the ONNX frontend tests.

Run with Debian's python3 (python3-torch 1.13): `frontends/tests/data/export_torch_models.py`.
Both are exported at opset 13 with a dynamic batch axis, so the Shape/Gather/
Concat/Reshape chains torch emits for `view(x.size(0), -1)` and attention
head splitting stay in the graph: onnx 1.12's shape inference alone leaves
them dynamic even after `--dim batch=N`.
"""
import os

import torch
import torch.nn as nn


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        y = self.pool(torch.relu(self.bn(self.conv(x))))
        return torch.softmax(self.fc(y.view(y.size(0), -1)), -1)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        self.norm = nn.LayerNorm(16)

    def forward(self, x):
        b, t, c = x.shape
        return self.norm(self.layer(x)).reshape(b, t * c)


def main():
    torch.manual_seed(0)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, model, shape in [("cnn_op13_dyn", CNN(), (2, 3, 8, 8)), ("encoder_op13_dyn", Encoder(), (2, 5, 16))]:
        model.eval()
        torch.onnx.export(model, (torch.randn(*shape),), os.path.join(here, name + ".onnx"), opset_version=13,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


if __name__ == "__main__":
    main()
