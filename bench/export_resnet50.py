#!/usr/bin/python3
"""Exports torchvision ResNet-50 (random weights, fixed seed) to ONNX for
`seedchip bench --model OUT.onnx` (timing-mode wall time). Usage: export_resnet50.py OUT.onnx"""
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")
torch.manual_seed(0)
m = torchvision.models.resnet50(weights=None).eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=17, input_names=["input"],
                  output_names=["output"], do_constant_folding=True)
