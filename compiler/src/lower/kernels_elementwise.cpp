// seedchip — elementwise ops: activations, arithmetic, comparisons, logic,
// casts, quantisation and BatchNormalization, as tiled vector programs.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "lowering.h"

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Operand;
using isa::Space;

namespace {

// numpy broadcasting of view v (shape s) to out_shape: right-aligned, size-1 dims stride 0.
View broadcast(const View& v, const std::vector<int64_t>& out_shape) {
  View r = v;
  const size_t rank = out_shape.size();
  r.shape = out_shape;
  r.strides.assign(rank, 0);
  const size_t off = rank - v.shape.size();
  for (size_t i = 0; i < v.shape.size(); ++i) r.strides[off + i] = v.shape[i] == 1 ? 0 : v.strides[i];
  return r;
}

// Helper that appends vector instructions over one tile shape.
struct Vec {
  std::vector<Instr>& code;
  const std::vector<int64_t> shape;
  void op(Op o, const View& dst, const View& a, const View* b = nullptr, int64_t sat = 1) {
    auto ins = split_instr(o, shape, dst, a, b, nullptr, {sat, 0, 0});
    code.insert(code.end(), ins.begin(), ins.end());
  }
  void op(Op o, const View& dst, const View& a, const View& b) { op(o, dst, a, &b); }
  // dst = a (op) immediate
  void opi(Op o, const View& dst, const View& a, double v, bool integer = false) {
    Operand im = imm(v, integer);
    auto ins = split_instr(o, shape, dst, a, nullptr, &im, {1, 0, 0});
    code.insert(code.end(), ins.begin(), ins.end());
  }
  // dst = immediate
  void set(const View& dst, double v, bool integer = false) {
    auto ins = split_instr(Op::v_copy, shape, dst, dst, nullptr, nullptr, {1, 0, 0});
    for (auto& in : ins) in.a = imm(v, integer);
    code.insert(code.end(), ins.begin(), ins.end());
  }
  // dst = a (op) b with b an immediate placed as operand a (for imm - x)
  void iop(Op o, const View& dst, double v, const View& b) {
    auto ins = split_instr(o, shape, dst, dst, &b, nullptr, {1, 0, 0});
    for (auto& in : ins) in.a = imm(v);
    code.insert(code.end(), ins.begin(), ins.end());
  }
};

Op unary_op(const std::string& op) {
  static const std::pair<const char*, Op> k[] = {
      {"Relu", Op::v_relu},   {"Sigmoid", Op::v_sigmoid}, {"Tanh", Op::v_tanh},   {"Erf", Op::v_erf},
      {"Exp", Op::v_exp},     {"Log", Op::v_log},         {"Sqrt", Op::v_sqrt},   {"Reciprocal", Op::v_recip},
      {"Neg", Op::v_neg},     {"Abs", Op::v_abs},         {"Floor", Op::v_floor}, {"Ceil", Op::v_ceil},
      {"Round", Op::v_round}, {"Sign", Op::v_sign},       {"Sin", Op::v_sin},     {"Cos", Op::v_cos},
      {"Not", Op::v_not},
  };
  for (auto& [n, o] : k)
    if (op == n) return o;
  return Op::nop;
}

Op binary_op(const std::string& op) {
  static const std::pair<const char*, Op> k[] = {
      {"Add", Op::v_add},  {"Sub", Op::v_sub},  {"Mul", Op::v_mul},          {"Div", Op::v_div},
      {"Pow", Op::v_pow},  {"Equal", Op::v_eq}, {"Less", Op::v_lt},          {"LessOrEqual", Op::v_le},
      {"Greater", Op::v_gt}, {"GreaterOrEqual", Op::v_ge}, {"And", Op::v_and}, {"Or", Op::v_or},
      {"Xor", Op::v_xor},  {"Mod", Op::v_mod},  {"Sum", Op::v_add},          {"Mean", Op::v_add},
      {"Max", Op::v_max},  {"Min", Op::v_min},
  };
  for (auto& [n, o] : k)
    if (op == n) return o;
  return Op::nop;
}

double scalar_const(Lowering& L, const ir::Node& n, int idx, double def) {
  if (idx >= static_cast<int>(n.inputs.size()) || n.inputs[idx] < 0) return def;
  const ir::HostTensor* t = L.constant(n.inputs[idx]);
  if (!t) return std::numeric_limits<double>::quiet_NaN();
  if (t->elements() != 1) L.fail(n, fmt::format("input {} must be a scalar", idx));
  return t->get(0);
}

}  // namespace

bool lower_elementwise(Lowering& L, const ir::Node& n) {
  const auto& g = L.graph();
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  const int out_v = n.outputs[0];
  const auto& out_shape = g.values[out_v].shape;
  const View out = L.hbm(out_v);
  auto in_view = [&](int i) {
    // the declared shapes must broadcast (numpy rules): an IR file can declare anything
    const auto& s = g.values[n.inputs[i]].shape;
    bool ok = s.size() <= out_shape.size();
    for (size_t k = 0; ok && k < s.size(); ++k) {
      const int64_t d = s[s.size() - 1 - k], o = out_shape[out_shape.size() - 1 - k];
      ok = d == o || d == 1;
    }
    if (!ok)
      throw CompileError(fmt::format("node '{}' ({}): input {} of shape [{}] does not broadcast to the declared output shape [{}]", n.name,
                                     n.op, i, fmt::join(s, ","), fmt::join(out_shape, ",")));
    return broadcast(L.hbm(n.inputs[i]), out_shape);
  };
  const bool int_out = dtype_is_int(out.dtype);

  const Op u = unary_op(n.op);
  if (u != Op::nop) {
    if (n.op == "Not" || n.op == "Sign" || n.op == "Neg" || n.op == "Abs" || n.op == "Relu") {
      L.elementwise({in_view(0)}, out, 0, [&](auto& code, auto& in, auto& o, auto&) {
        Vec{code, o.shape}.op(u, o, in[0]);
      });
    } else {
      L.elementwise({in_view(0)}, out, 0, [&](auto& code, auto& in, auto& o, auto&) {
        Vec{code, o.shape}.op(u, o, in[0]);
      });
    }
    return true;
  }

  const Op b = binary_op(n.op);
  if (b != Op::nop) {
    if (n.op == "Mod" && n.attr_int("fmod", 0) == 0 && !dtype_is_int(L.dt(n.inputs[0])))
      L.fail(n, "Mod with fmod=0 is defined for integer inputs only");
    if (n.op == "Mod" && n.attr_int("fmod", 0) != 0 && dtype_is_int(L.dt(n.inputs[0]))) {
      // C fmod on integers (sign of the dividend): a - trunc(a / b) * b; v.mod on
      // integers follows the divisor's sign (fmod=0).
      L.elementwise({in_view(0), in_view(1)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
        Vec v{code, o.shape};
        View t = temp(DType::int32);
        v.op(Op::v_div, t, in[0], in[1]);
        v.op(Op::v_mul, t, t, in[1]);
        v.op(Op::v_sub, o, in[0], t);
      });
      return true;
    }
    std::vector<View> ins;
    for (size_t i = 0; i < n.inputs.size(); ++i) ins.push_back(in_view(static_cast<int>(i)));
    const bool mean = n.op == "Mean";
    const double inv = 1.0 / static_cast<double>(ins.size());
    L.elementwise(ins, out, 0, [&](auto& code, auto& in, auto& o, auto&) {
      Vec v{code, o.shape};
      if (in.size() == 1) v.op(Op::v_copy, o, in[0]);
      else v.op(b, o, in[0], in[1]);
      for (size_t i = 2; i < in.size(); ++i) v.op(b, o, o, in[i]);
      if (mean) v.opi(Op::v_mul, o, o, inv);
    });
    return true;
  }

  // ---- composite activations: fp32 temporaries
  const std::string& op = n.op;
  if (op == "LeakyRelu" || op == "PRelu") {
    const double alpha = n.attr_float("alpha", 0.01);
    std::vector<View> ins = {in_view(0)};
    if (op == "PRelu") ins.push_back(in_view(1));
    L.elementwise(ins, out, 2, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32), c = temp(DType::fp32);
      if (op == "PRelu") v.op(Op::v_mul, t, in[0], in[1]);
      else v.opi(Op::v_mul, t, in[0], alpha);
      v.opi(Op::v_lt, c, in[0], 0.0);
      v.op(Op::v_copy, o, in[0]);
      v.op(Op::v_select, o, c, t);
    });
    return true;
  }
  if (op == "Elu" || op == "Selu" || op == "Celu") {
    const double alpha = n.attr_float("alpha", op == "Selu" ? 1.67326319217681884765625 : 1.0);
    const double gamma = n.attr_float("gamma", 1.05070102214813232421875);
    L.elementwise({in_view(0)}, out, 3, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32), c = temp(DType::fp32), x = temp(DType::fp32);
      if (op == "Celu") {
        v.opi(Op::v_mul, t, in[0], 1.0 / alpha);  // alpha * (exp(x / alpha) - 1) for x < 0
        v.op(Op::v_exp, t, t);
        v.opi(Op::v_sub, t, t, 1.0);
        v.opi(Op::v_mul, t, t, alpha);
        v.op(Op::v_copy, x, in[0]);
      } else {
        v.op(Op::v_exp, t, in[0]);
        v.opi(Op::v_sub, t, t, 1.0);
        v.opi(Op::v_mul, t, t, op == "Selu" ? alpha * gamma : alpha);
        if (op == "Selu") v.opi(Op::v_mul, x, in[0], gamma);
        else v.op(Op::v_copy, x, in[0]);
      }
      v.opi(op == "Elu" || op == "Celu" ? Op::v_lt : Op::v_le, c, in[0], 0.0);
      v.op(Op::v_select, x, c, t);
      v.op(Op::v_copy, o, x);
    });
    return true;
  }
  if (op == "HardSigmoid" || op == "HardSwish") {
    const double alpha = op == "HardSwish" ? 1.0 / 6 : n.attr_float("alpha", 0.2);
    const double beta = op == "HardSwish" ? 0.5 : n.attr_float("beta", 0.5);
    L.elementwise({in_view(0)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32);
      v.opi(Op::v_mul, t, in[0], alpha);
      v.opi(Op::v_add, t, t, beta);
      v.opi(Op::v_max, t, t, 0.0);
      if (op == "HardSwish") {
        v.opi(Op::v_min, t, t, 1.0);
        v.op(Op::v_mul, o, in[0], t);
      } else {
        v.opi(Op::v_min, o, t, 1.0);
      }
    });
    return true;
  }
  if (op == "SwiGLU") {  // seedchip domain: [.., 2I] -> silu(x[.., :I]) * x[.., I:] (gate, then up)
    const View x = L.hbm(n.inputs[0]);
    const int64_t I = out_shape.back();
    if (x.shape.back() != 2 * I) L.fail(n, "SwiGLU input's last axis must be twice the output's");
    const size_t last = x.shape.size() - 1;
    L.elementwise({x.slice(static_cast<int>(last), 0, I), x.slice(static_cast<int>(last), I, I)}, out, 1,
                  [&](auto& code, auto& in, auto& o, auto& temp) {
                    Vec v{code, o.shape};
                    View t = temp(DType::fp32);
                    v.op(Op::v_sigmoid, t, in[0]);
                    v.op(Op::v_mul, t, t, in[0]);
                    v.op(Op::v_mul, o, t, in[1]);
                  });
    return true;
  }
  if (op == "Gelu") {  // fused by the fuse pass: x * 0.5 * (1 + erf(x / sqrt(2)))
    L.elementwise({in_view(0)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32);
      v.opi(Op::v_div, t, in[0], std::sqrt(2.0));
      v.op(Op::v_erf, t, t);
      v.opi(Op::v_add, t, t, 1.0);
      v.op(Op::v_mul, t, in[0], t);
      v.opi(Op::v_mul, o, t, 0.5);
    });
    return true;
  }
  if (op == "Softplus" || op == "Softsign") {
    L.elementwise({in_view(0)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32);
      if (op == "Softplus") {
        v.op(Op::v_exp, t, in[0]);
        v.opi(Op::v_add, t, t, 1.0);
        v.op(Op::v_log, o, t);
      } else {
        v.op(Op::v_abs, t, in[0]);
        v.opi(Op::v_add, t, t, 1.0);
        v.op(Op::v_div, o, in[0], t);
      }
    });
    return true;
  }
  if (op == "ThresholdedRelu" || op == "Shrink") {
    const double alpha = n.attr_float("alpha", 1.0), bias = n.attr_float("bias", 0.0), lambd = n.attr_float("lambd", 0.5);
    L.elementwise({in_view(0)}, out, 2, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View c = temp(DType::fp32), t = temp(DType::fp32);
      v.set(o, 0.0, int_out);
      if (op == "ThresholdedRelu") {
        v.opi(Op::v_gt, c, in[0], alpha);
        v.op(Op::v_select, o, c, in[0]);
      } else {
        v.opi(Op::v_lt, c, in[0], -lambd);
        v.opi(Op::v_add, t, in[0], bias);
        v.op(Op::v_select, o, c, t);
        v.opi(Op::v_gt, c, in[0], lambd);
        v.opi(Op::v_sub, t, in[0], bias);
        v.op(Op::v_select, o, c, t);
      }
    });
    return true;
  }
  if (op == "Clip") {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    std::vector<View> ins = {in_view(0)};
    int lo_in = -1, hi_in = -1;
    if (n.opset < 11) {
      lo = n.attr_float("min", lo);
      hi = n.attr_float("max", hi);
    } else {
      if (n.inputs.size() > 1 && n.inputs[1] >= 0) {
        if (L.constant(n.inputs[1])) lo = scalar_const(L, n, 1, lo);
        else lo_in = static_cast<int>(ins.size()), ins.push_back(in_view(1));
      }
      if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
        if (L.constant(n.inputs[2])) hi = scalar_const(L, n, 2, hi);
        else hi_in = static_cast<int>(ins.size()), ins.push_back(in_view(2));
      }
    }
    const bool integer = dtype_is_int(L.dt(n.inputs[0]));
    if (integer) {  // integer bounds as immediates must fit int32
      lo = std::max(lo, -2147483648.0);
      hi = std::min(hi, 2147483647.0);
    }
    L.elementwise(ins, out, 0, [&](auto& code, auto& in, auto& o, auto&) {
      Vec v{code, o.shape};
      if (hi_in >= 0) v.op(Op::v_min, o, in[0], in[hi_in]);
      else if (std::isinf(hi)) v.op(Op::v_copy, o, in[0]);
      else v.opi(Op::v_min, o, in[0], hi, integer);
      if (lo_in >= 0) v.op(Op::v_max, o, o, in[lo_in]);
      else if (!std::isinf(lo)) v.opi(Op::v_max, o, o, lo, integer);
    });
    return true;
  }
  if (op == "Where") {
    L.elementwise({in_view(0), in_view(1), in_view(2)}, out, 0, [&](auto& code, auto& in, auto& o, auto&) {
      Vec v{code, o.shape};
      v.op(Op::v_copy, o, in[2]);
      v.op(Op::v_select, o, in[0], in[1]);
    });
    return true;
  }
  if (op == "IsNaN" || op == "IsInf") {
    const bool pos = n.attr_int("detect_positive", 1) != 0, neg = n.attr_int("detect_negative", 1) != 0;
    L.elementwise({in_view(0)}, out, 2, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32), c = temp(DType::fp32);
      if (op == "IsNaN") {
        v.op(Op::v_eq, t, in[0], in[0]);
        v.opi(Op::v_eq, o, t, 0.0);
      } else {
        v.set(t, 0.0);
        if (pos) {
          v.opi(Op::v_eq, c, in[0], std::numeric_limits<double>::infinity());
          v.op(Op::v_or, t, t, c);
        }
        if (neg) {
          v.opi(Op::v_eq, c, in[0], -std::numeric_limits<double>::infinity());
          v.op(Op::v_or, t, t, c);
        }
        v.op(Op::v_copy, o, t);
      }
    });
    return true;
  }
  if (op == "Cast" || op == "CastLike") {
    const DType from = L.dt(n.inputs[0]);
    const bool to_bool = g.values[out_v].type == ir::ElemType::boolean;
    const bool float_to_int = dtype_is_float(from) && int_out;
    L.elementwise({in_view(0)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32);
      if (to_bool) {
        v.opi(Op::v_eq, t, in[0], 0.0);
        v.opi(Op::v_eq, o, t, 0.0);
      } else if (float_to_int) {
        v.op(Op::v_trunc, t, in[0]);  // ONNX Cast truncates toward zero
        v.op(Op::v_copy, o, t);
      } else {
        v.op(Op::v_copy, o, in[0]);
      }
    });
    return true;
  }
  if (op == "BatchNormalization") {
    // Inference form with constant statistics: y = x * a + b per channel (axis 1).
    const ir::HostTensor *sc = L.constant(n.inputs[1]), *bi = L.constant(n.inputs[2]),
                         *mean = L.constant(n.inputs[3]), *var = L.constant(n.inputs[4]);
    if (!sc || !bi || !mean || !var) L.host(n, "scale, bias, mean and var must be constants (inference mode)");
    if (n.attr_int("training_mode", 0) != 0) L.fail(n, "training_mode=1 is not supported");
    const double eps = n.attr_float("epsilon", 1e-5);
    const int64_t C = sc->elements();
    ir::HostTensor a(ir::ElemType::f32, {C}), bb(ir::ElemType::f32, {C});
    for (int64_t c = 0; c < C; ++c) {
      const double s = static_cast<double>(static_cast<float>(sc->get(c))) /
                       std::sqrt(static_cast<double>(static_cast<float>(var->get(c))) + eps);
      a.set(c, s);
      bb.set(c, bi->get(c) - mean->get(c) * s);
    }
    View av = L.add_constant(a, DType::fp32), bv = L.add_constant(bb, DType::fp32);
    // per-channel views: shape [C] broadcast along dim 1 of out
    auto chan = [&](View v) {
      View r = v;
      r.shape = out_shape;
      r.strides.assign(out_shape.size(), 0);
      if (out_shape.size() > 1) r.strides[1] = 1;
      return r;
    };
    L.elementwise({in_view(0), chan(av), chan(bv)}, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      View t = temp(DType::fp32);
      v.op(Op::v_mul, t, in[0], in[1]);
      v.op(Op::v_add, o, t, in[2]);
    });
    return true;
  }
  if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    const bool q = op == "QuantizeLinear";
    const View x = L.hbm(n.inputs[0]);
    const int64_t axis_attr = n.attr_int("axis", 1);
    const int rank = static_cast<int>(x.shape.size());
    const int axis = static_cast<int>(axis_attr < 0 ? axis_attr + rank : axis_attr);
    auto per_axis = [&](int vi) {
      View s = L.hbm(vi);
      if (s.shape.empty() || s.elements() == 1) return broadcast(View::dense(Space::hbm, s.addr, s.dtype, {1}), out_shape);
      View r = s;
      r.shape = out_shape;
      r.strides.assign(out_shape.size(), 0);
      r.strides[axis] = 1;
      return r;
    };
    std::vector<View> ins = {in_view(0), per_axis(n.inputs[1])};
    int64_t zp = 0;
    int zp_in = -1;
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const ir::HostTensor* z = L.constant(n.inputs[2]);
      if (z && z->elements() == 1) {
        zp = z->get_int(0);
      } else {
        zp_in = static_cast<int>(ins.size());
        ins.push_back(per_axis(n.inputs[2]));
      }
    }
    L.elementwise(ins, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      Vec v{code, o.shape};
      if (q) {
        if (zp_in < 0) {
          auto c = split_instr(Op::v_quant, o.shape, o, in[0], &in[1], nullptr, {zp, 1, 0});
          code.insert(code.end(), c.begin(), c.end());
        } else {  // per-channel zero point: round(x / s) in int32, then add zp (saturating store)
          View t = temp(DType::int32);
          auto c = split_instr(Op::v_quant, o.shape, t, in[0], &in[1], nullptr, {0, 1, 0});
          code.insert(code.end(), c.begin(), c.end());
          v.op(Op::v_add, o, t, in[zp_in]);
        }
      } else {
        if (zp_in < 0) {
          auto c = split_instr(Op::v_dequant, o.shape, o, in[0], &in[1], nullptr, {zp, 1, 0});
          code.insert(code.end(), c.begin(), c.end());
        } else {
          View t = temp(DType::int32);
          v.op(Op::v_sub, t, in[0], in[zp_in]);
          auto c = split_instr(Op::v_dequant, o.shape, o, t, &in[1], nullptr, {0, 1, 0});
          code.insert(code.end(), c.begin(), c.end());
        }
      }
    });
    return true;
  }
  return false;
}

}  // namespace seedchip::compiler
