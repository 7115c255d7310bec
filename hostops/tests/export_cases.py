#!/usr/bin/python3
"""Converts ONNX backend node test cases into a plain text file for hostops_tests.

Usage: export_cases.py CASES_DIR OUT_FILE

CASES_DIR holds one directory per case (model.onnx, test_data_set_0/
input_N.pb, output_N.pb), as written by `backend-test-tools generate-data`.
Single-node models and multi-node ones (the *_expanded function bodies) are
exported; cases with subgraphs, strings, sequences or optionals are listed as
skipped.

Format (whitespace-separated tokens, one record per line):
  case NAME
  value NAME TENSOR                     a graph input or initializer
  node OP DOMAIN|- OPSET                then the node's attr/in/out lines
  attr NAME int V | float V | string HEX|- | ints N V... | floats N V... | tensor TENSOR
  in N NAME...                          value names, - for an omitted input
  out N NAME...                         - for an omitted output
  expect NAME TENSOR                    a graph output
  end
  skip NAME REASON...
TENSOR is `ELEM RANK DIM... VALUE...` with ELEM an ir::elem_name; floats are
printed with repr (round-trips), nan/inf/-inf spelled so.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, TensorProto

ELEM = {
    TensorProto.FLOAT: "f32", TensorProto.DOUBLE: "f64", TensorProto.FLOAT16: "f16",
    TensorProto.BFLOAT16: "bf16", TensorProto.INT8: "i8", TensorProto.UINT8: "u8",
    TensorProto.INT16: "i16", TensorProto.UINT16: "u16", TensorProto.INT32: "i32",
    TensorProto.UINT32: "u32", TensorProto.INT64: "i64", TensorProto.UINT64: "u64",
    TensorProto.BOOL: "bool",
}
FLOATS = {"f32", "f64", "f16", "bf16"}


class Skip(Exception):
    pass


def fmt_float(v):
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def fmt_tensor(t, declared=None):
    if t.data_type not in ELEM:
        raise Skip("tensor type %s" % TensorProto.DataType.Name(t.data_type))
    elem = ELEM[t.data_type]
    a = numpy_helper.to_array(t)
    if declared == TensorProto.BFLOAT16 and t.data_type == TensorProto.UINT16:
        # onnx 1.12 stores bfloat16 test data as its uint16 bit patterns
        elem = "bf16"
        a = (a.astype(np.uint32) << 16).view(np.float32)
    elif t.data_type == TensorProto.BFLOAT16 and a.dtype != np.float32:
        a = (a.astype(np.uint32) << 16).view(np.float32)
    dims = list(t.dims)
    flat = a.reshape(-1)
    if elem in FLOATS:
        vals = [fmt_float(v) for v in flat.astype(np.float64)]
    elif elem == "bool":
        vals = ["1" if v else "0" for v in flat]
    else:
        vals = [str(int(v)) for v in flat]
    return " ".join([elem, str(len(dims))] + [str(d) for d in dims] + vals)


def fmt_attr(a):
    T = onnx.AttributeProto
    if a.type == T.INT:
        return "int %d" % a.i
    if a.type == T.FLOAT:
        return "float " + fmt_float(a.f)
    if a.type == T.STRING:
        return "string " + (a.s.hex() or "-")
    if a.type == T.INTS:
        return " ".join(["ints", str(len(a.ints))] + [str(v) for v in a.ints])
    if a.type == T.FLOATS:
        return " ".join(["floats", str(len(a.floats))] + [fmt_float(v) for v in a.floats])
    if a.type == T.TENSOR:
        return "tensor " + fmt_tensor(a.t)
    raise Skip("attribute %s of type %s" % (a.name, T.AttributeType.Name(a.type)))


def load_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def value_name(n):
    if n and any(ch.isspace() for ch in n):
        raise Skip("value name with spaces")
    return n or "-"


def export(case_dir, name):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    g = model.graph
    opsets = {(o.domain if o.domain != "ai.onnx" else ""): o.version for o in model.opset_import}
    data = os.path.join(case_dir, "test_data_set_0")
    if not os.path.isdir(data):
        raise Skip("no test_data_set_0")
    for v in list(g.input) + list(g.output):
        if not v.type.HasField("tensor_type"):
            raise Skip("non-tensor value %s" % v.name)
    lines = ["case " + name]
    inits = {t.name for t in g.initializer}
    for t in g.initializer:
        lines.append("value %s %s" % (value_name(t.name), fmt_tensor(t)))
    for k, v in enumerate(g.input):
        if v.name in inits:
            continue
        t = load_pb(os.path.join(data, "input_%d.pb" % k))
        lines.append("value %s %s" % (value_name(v.name), fmt_tensor(t, v.type.tensor_type.elem_type)))
    for node in g.node:
        domain = node.domain if node.domain != "ai.onnx" else ""
        lines.append("node %s %s %d" % (node.op_type, domain or "-", opsets.get(domain, 0)))
        for a in node.attribute:
            lines.append("attr %s %s" % (a.name, fmt_attr(a)))
        lines.append(" ".join(["in", str(len(node.input))] + [value_name(n) for n in node.input]))
        lines.append(" ".join(["out", str(len(node.output))] + [value_name(n) for n in node.output]))
    for k, v in enumerate(g.output):
        t = load_pb(os.path.join(data, "output_%d.pb" % k))
        lines.append("expect %s %s" % (value_name(v.name), fmt_tensor(t, v.type.tensor_type.elem_type)))
    lines.append("end")
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    records = []
    for name in sorted(os.listdir(root)):
        case_dir = os.path.join(root, name)
        if not os.path.isfile(os.path.join(case_dir, "model.onnx")):
            continue
        try:
            records.extend(export(case_dir, name))
        except Skip as e:
            records.append("skip %s %s" % (name, e))
        except Exception as e:  # a broken case must not hide the others
            records.append("skip %s error: %s" % (name, str(e).replace("\n", " ")))
    with open(out, "w") as f:
        f.write("\n".join(records) + "\n")


if __name__ == "__main__":
    main()
