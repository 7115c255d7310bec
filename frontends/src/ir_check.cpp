// seedchip — IR declared-shape check: each node is put alone into a small ONNX
// model (its inputs typed as declared, small constants as initializers) and
// ONNX shape inference says what its outputs must be.
#include "seedchip/frontends/ir_check.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "schema_guards.h"
#include "seedchip/hostops/hostops.h"

namespace seedchip::frontends {

namespace {

using ir::ElemType;
using onnx::TensorProto;

/// Constants up to this many elements travel as data: enough for every
/// shape-like operand (shapes, axes, pads, starts, scales), small enough that
/// copying them per node costs nothing next to compiling.
constexpr int64_t kDataElements = 4096;

/// onnx 1.12 knows opsets up to 17.
constexpr int kOnnxOpset = 17;

/// Ops opset 18 changed (axes or sizes moved from attributes to inputs, new
/// reductions): opset 17's shape function would misread them.
const std::set<std::string, std::less<>> kChangedIn18 = {
    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
    "ReduceSumSquare", "Split", "Pad", "Resize", "ScatterElements", "ScatterND", "LpPool", "Col2Im", "CenterCropPad",
    "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "GroupNormalization", "Mish", "OptionalHasElement",
    "OptionalGetElement"};

std::optional<int32_t> onnx_elem(ElemType t) {
  switch (t) {
    case ElemType::f32: return TensorProto::FLOAT;
    case ElemType::f64: return TensorProto::DOUBLE;
    case ElemType::f16: return TensorProto::FLOAT16;
    case ElemType::bf16: return TensorProto::BFLOAT16;
    case ElemType::i8: return TensorProto::INT8;
    case ElemType::u8: return TensorProto::UINT8;
    case ElemType::i16: return TensorProto::INT16;
    case ElemType::u16: return TensorProto::UINT16;
    case ElemType::i32: return TensorProto::INT32;
    case ElemType::u32: return TensorProto::UINT32;
    case ElemType::i64: return TensorProto::INT64;
    case ElemType::u64: return TensorProto::UINT64;
    case ElemType::boolean: return TensorProto::BOOL;
    case ElemType::f8e4m3:
    case ElemType::f8e5m2: return std::nullopt;  // onnx 1.12 has no float8
  }
  return std::nullopt;
}

/// What a node's output must be; an unknown element type is nullopt, an
/// unknown rank an empty optional, an unknown dimension -1.
struct Expect {
  std::optional<ElemType> type;
  std::optional<std::vector<int64_t>> shape;
};

std::string type_str(std::optional<ElemType> t, const std::optional<std::vector<int64_t>>& s) {
  std::string r(t ? ir::elem_name(*t) : std::string_view("?"));
  if (!s) return r + "[...]";
  r += '[';
  for (size_t i = 0; i < s->size(); ++i) r += (i ? "," : "") + ((*s)[i] < 0 ? std::string("?") : std::to_string((*s)[i]));
  return r + ']';
}

class Checker {
 public:
  Checker(const ir::Graph& g, const std::string& src) : g_(g), src_(src), known_(g.values.size()) {
    for (size_t i = 0; i < g.values.size(); ++i) known_[i] = g.values[i].data;
  }

  void run() {
    for (const auto& n : g_.nodes) {
      check(n);
      propagate(n);
    }
  }

 private:
  const ir::Graph& g_;
  const std::string& src_;
  std::vector<std::shared_ptr<const ir::HostTensor>> known_;  ///< data known at compile time, per value

  [[noreturn]] void fail(const ir::Node& n, const std::string& why) const {
    throw ir::IrError(one_line(fmt::format("{}: node '{}' ({}): {}", src_, n.name, n.op, why), 400));
  }
  const ir::Value& in(const ir::Node& n, size_t k) const {
    if (k >= n.inputs.size() || n.inputs[k] < 0) fail(n, fmt::format("input {} is missing", k));
    return g_.values[static_cast<size_t>(n.inputs[k])];
  }

  void compare(const ir::Node& n, const std::vector<Expect>& want) const {
    for (size_t k = 0; k < n.outputs.size() && k < want.size(); ++k) {
      const ir::Value& o = g_.values[static_cast<size_t>(n.outputs[k])];
      const Expect& e = want[k];
      bool ok = !e.type || *e.type == o.type;
      if (e.shape) {
        ok = ok && e.shape->size() == o.shape.size();
        for (size_t d = 0; ok && d < o.shape.size(); ++d) ok = (*e.shape)[d] < 0 || (*e.shape)[d] == o.shape[d];
      }
      if (!ok)
        fail(n, fmt::format("output '{}' is declared {} but its inputs give {}", one_line(o.name, 80),
                            type_str(o.type, o.shape), type_str(e.type, e.shape)));
    }
  }

  void check(const ir::Node& n) {
    if (n.op == "Gelu" || n.op == "RMSNormalization") return compare(n, {{std::nullopt, in(n, 0).shape}});
    if (n.op == "SwiGLU") {
      auto s = in(n, 0).shape;
      if (s.empty() || s.back() % 2 != 0) fail(n, "the input's last axis must have an even length (gate, then up)");
      s.back() /= 2;
      return compare(n, {{std::nullopt, s}});
    }
    if (n.op == "MatMulInt4") {
      const auto &a = in(n, 0).shape, &b = in(n, 1).shape;
      if (a.empty() || b.size() != 2 || a.back() != b[0])
        fail(n, fmt::format("A {} and packed B {} do not form A [.., K] x B [K, N/2]", type_str(in(n, 0).type, a),
                            type_str(in(n, 1).type, b)));
      auto s = a;
      s.back() = 2 * b[1];
      return compare(n, {{std::nullopt, s}});
    }
    if (n.op == "FlashAttention") return compare(n, {{std::nullopt, in(n, 0).shape}});
    if (n.domain == "seedchip" && n.op.rfind("Fused", 0) == 0) {
      // FusedX is X with a bias and/or an activation: X's rule, then the bias
      ir::Node base = n;
      base.op = n.op.substr(5);
      base.domain.clear();
      base.attrs.erase("activation");
      if (base.op == "MatMul") {
        base.opset = 13;
        base.inputs.resize(2);
      }
      const auto want = infer(base);
      if (!want) return;
      compare(n, *want);
      if (n.op == "FusedMatMul" && want->at(0).shape && !want->at(0).shape->empty()) {
        const int64_t N = want->at(0).shape->back();
        if (in(n, 2).elements() != N) fail(n, fmt::format("the bias has {} elements, the output's last axis {}", in(n, 2).elements(), N));
      }
      return;
    }
    if (!n.domain.empty() && n.domain != "ai.onnx") return;  // another domain: the compiler says whether it knows it
    // The compiler reads a missing opset as older than every change, the host
    // evaluator as the newest: the two would disagree (ReduceMean's axes, ...)
    if (n.opset <= 0) fail(n, "no opset given (write opset=N: an ONNX op's meaning depends on its opset)");
    if (n.op == "Constant") {
      static const char* kValueAttrs[] = {"value", "value_float", "value_floats", "value_int", "value_ints",
                                          "value_string", "value_strings", "sparse_value"};
      int given = 0;
      for (const char* k : kValueAttrs) given += n.has_attr(k) ? 1 : 0;
      if (given != 1)
        fail(n, fmt::format("needs exactly one value attribute (value, value_float, value_floats, value_int, "
                            "value_ints, ...), has {}", given));
    }
    // Ops that move data keep its element type whatever the opset says (an
    // old opset's schema may not apply to the node as written).
    static const std::set<std::string> kKeepsType = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity",
                                                     "Transpose", "Expand", "Slice", "Concat", "Tile"};
    if (kKeepsType.count(n.op) && !n.inputs.empty() && n.inputs[0] >= 0)
      for (int v : n.outputs)
        if (v >= 0 && g_.values[static_cast<size_t>(v)].type != in(n, 0).type)
          fail(n, fmt::format("result '{}' is declared {} but the op keeps its input's type {}",
                              g_.values[static_cast<size_t>(v)].name, ir::elem_name(g_.values[static_cast<size_t>(v)].type),
                              ir::elem_name(in(n, 0).type)));
    if (auto want = infer(n)) compare(n, *want);
    // onnx 1.12's Reshape takes a constant target shape as given
    if (n.op == "Reshape" && !n.outputs.empty() && in(n, 0).elements() != g_.values[static_cast<size_t>(n.outputs[0])].elements())
      fail(n, fmt::format("reshapes {} elements into {}", in(n, 0).elements(),
                          type_str(g_.values[static_cast<size_t>(n.outputs[0])].type, g_.values[static_cast<size_t>(n.outputs[0])].shape)));
  }

  /// ONNX shape inference for a default-domain node; nullopt when it cannot say.
  std::optional<std::vector<Expect>> infer(const ir::Node& n) const {
    int opset = n.opset;
    if (opset <= 0 || opset > kOnnxOpset) {
      if (kChangedIn18.count(n.op)) return std::nullopt;
      opset = kOnnxOpset;
    }
    const onnx::OpSchema* schema = detail::guarded_schemas()->GetSchema(n.op, opset, "");
    if (!schema) return std::nullopt;  // not an ONNX op at this opset: the compiler decides
    // The operand counts the op allows (kernels index their operands by position).
    const auto count = [&](const char* what, size_t got, int lo, int hi) {
      if (static_cast<int64_t>(got) >= lo && static_cast<int64_t>(got) <= hi) return;
      const char* s = lo == 1 && (hi == lo || hi == std::numeric_limits<int>::max()) ? "" : "s";
      fail(n, hi == std::numeric_limits<int>::max() ? fmt::format("takes at least {} {}{}, got {}", lo, what, s, got)
              : lo == hi ? fmt::format("takes {} {}{}, got {}", lo, what, s, got)
                         : fmt::format("takes {} to {} {}s, got {}", lo, hi, what, got));
    };
    count("input", n.inputs.size(), schema->min_input(), schema->max_input());
    count("output", n.outputs.size(), schema->min_output(), schema->max_output());
    for (int v : n.inputs)
      if (v >= 0 && !onnx_elem(g_.values[static_cast<size_t>(v)].type)) return std::nullopt;
    for (int v : n.outputs)
      if (!onnx_elem(g_.values[static_cast<size_t>(v)].type)) return std::nullopt;

    onnx::ModelProto m;
    m.set_ir_version(8);
    auto* os = m.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
    onnx::GraphProto* gp = m.mutable_graph();
    gp->set_name("check");
    onnx::NodeProto* np = gp->add_node();
    np->set_op_type(n.op);
    np->set_name(n.name);
    std::set<int> seen;
    for (int v : n.inputs) {
      if (v < 0) {
        np->add_input("");
        continue;
      }
      const ir::Value& val = g_.values[static_cast<size_t>(v)];
      np->add_input(val.name);
      if (!seen.insert(v).second) continue;
      const auto& data = known_[static_cast<size_t>(v)];
      if (data && data->elements() <= kDataElements) {
        *gp->add_initializer() = to_proto(*data, val.name);
      } else {
        auto* vi = gp->add_input();
        vi->set_name(val.name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(*onnx_elem(val.type));
        auto* sh = tt->mutable_shape();
        for (int64_t d : val.shape) sh->add_dim()->set_dim_value(d);
      }
    }
    for (int v : n.outputs) np->add_output(g_.values[static_cast<size_t>(v)].name);
    const auto& declared = schema->attributes();
    for (const auto& [k, a] : n.attrs) {
      if (!declared.count(k)) continue;  // seedchip's own annotations (activation, q_dtype, ...)
      add_attr(*np, k, a);
    }

    // one node alone: its constant operands arrive as initializers, so no data propagation is needed
    const onnx::ShapeInferenceOptions so(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false);
    try {
      onnx::shape_inference::InferShapes(m, detail::guarded_schemas(), so);
    } catch (const std::exception& e) {
      std::string why = e.what();
      // "[ShapeInferenceError] (op_type:X, node name: N): reason" -> reason
      const auto p = why.find("node name: " + n.name + "):");
      if (p != std::string::npos) why = why.substr(p + 13 + n.name.size());
      why = why.substr(0, why.find('\n'));
      for (size_t q; (q = why.find("[ShapeInferenceError]")) != std::string::npos;) why.erase(q, 21);
      const auto b = why.find_first_not_of(' ');
      fail(n, "onnx shape inference: " + one_line(b == std::string::npos ? why : why.substr(b), 300));
    }
    std::vector<Expect> out(n.outputs.size());
    for (const auto& vi : gp->value_info()) {
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (vi.name() != g_.values[static_cast<size_t>(n.outputs[k])].name || !vi.type().has_tensor_type()) continue;
        const auto& tt = vi.type().tensor_type();
        if (tt.elem_type() != 0) {
          const auto et = elem_from_onnx(tt.elem_type());
          if (et) out[k].type = *et;
        }
        if (tt.has_shape()) {
          std::vector<int64_t> s;
          for (const auto& d : tt.shape().dim()) s.push_back(d.has_dim_value() ? d.dim_value() : -1);
          out[k].shape = std::move(s);
        }
      }
    }
    return out;
  }

  static std::optional<ElemType> elem_from_onnx(int32_t code) {
    for (ElemType t : {ElemType::f32, ElemType::f64, ElemType::f16, ElemType::bf16, ElemType::i8, ElemType::u8,
                       ElemType::i16, ElemType::u16, ElemType::i32, ElemType::u32, ElemType::i64, ElemType::u64,
                       ElemType::boolean})
      if (onnx_elem(t) == code) return t;
    return std::nullopt;
  }

  static TensorProto to_proto(const ir::HostTensor& t, const std::string& name) {
    TensorProto p;
    p.set_name(name);
    p.set_data_type(*onnx_elem(t.type));
    for (int64_t d : t.shape) p.add_dims(d);
    p.set_raw_data(std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
    return p;
  }

  void add_attr(onnx::NodeProto& np, const std::string& k, const ir::Attr& a) const {
    auto* ap = np.add_attribute();
    ap->set_name(k);
    using AP = onnx::AttributeProto;
    if (const auto* i = std::get_if<int64_t>(&a)) {
      ap->set_type(AP::INT), ap->set_i(*i);
    } else if (const auto* f = std::get_if<double>(&a)) {
      ap->set_type(AP::FLOAT), ap->set_f(static_cast<float>(*f));
    } else if (const auto* s = std::get_if<std::string>(&a)) {
      // Cast `to` and EyeLike `dtype` may name an IR type: ONNX wants its code
      const auto et = (k == "to" || k == "dtype") ? ir::parse_elem(*s) : std::nullopt;
      if (et && onnx_elem(*et)) ap->set_type(AP::INT), ap->set_i(*onnx_elem(*et));
      else ap->set_type(AP::STRING), ap->set_s(*s);
    } else if (const auto* is = std::get_if<std::vector<int64_t>>(&a)) {
      ap->set_type(AP::INTS);
      for (auto v : *is) ap->add_ints(v);
    } else if (const auto* fs = std::get_if<std::vector<double>>(&a)) {
      ap->set_type(AP::FLOATS);
      for (auto v : *fs) ap->add_floats(static_cast<float>(v));
    } else if (const auto* ss = std::get_if<std::vector<std::string>>(&a)) {
      ap->set_type(AP::STRINGS);
      for (const auto& v : *ss) ap->add_strings(v);
    } else if (const auto* t = std::get_if<ir::HostTensor>(&a)) {
      if (!onnx_elem(t->type)) {
        np.mutable_attribute()->RemoveLast();
        return;
      }
      ap->set_type(AP::TENSOR);
      *ap->mutable_t() = to_proto(*t, "");
    }
  }

  /// Records what a node's outputs hold when that is known before running:
  /// Shape and Size from declared shapes, other ops from small known inputs.
  void propagate(const ir::Node& n) {
    if (n.outputs.empty() || !n.domain.empty()) return;
    std::vector<ir::HostTensor> res;
    if ((n.op == "Shape" || n.op == "Size") && !n.inputs.empty() && n.inputs[0] >= 0) {
      const auto& shape = g_.values[static_cast<size_t>(n.inputs[0])].shape;
      if (n.op == "Size") {
        ir::HostTensor t(ElemType::i64, {});
        int64_t e = 1;
        for (auto d : shape) e *= d;  // bounded by Graph::verify
        t.set_int(0, e);
        res.push_back(std::move(t));
      } else {
        const int64_t r = static_cast<int64_t>(shape.size());
        int64_t b = n.attr_int("start", 0), e = n.attr_int("end", r);
        if (b < 0) b += r;
        if (e < 0) e += r;
        b = std::clamp<int64_t>(b, 0, r);
        e = std::clamp<int64_t>(e, 0, r);
        ir::HostTensor t(ElemType::i64, {std::max<int64_t>(0, e - b)});
        for (int64_t i = b; i < e; ++i) t.set_int(i - b, shape[static_cast<size_t>(i)]);
        res.push_back(std::move(t));
      }
    } else {
      if (!hostops::supported(n)) return;
      std::vector<const ir::HostTensor*> ins;
      for (int v : n.inputs) {
        if (v < 0) {
          ins.push_back(nullptr);
          continue;
        }
        const auto& d = known_[static_cast<size_t>(v)];
        if (!d || d->elements() > kDataElements) return;
        ins.push_back(d.get());
      }
      try {
        res = hostops::eval(n, ins);
      } catch (const std::exception&) {
        return;  // e.g. a division by zero: nothing is known
      }
    }
    for (size_t k = 0; k < n.outputs.size() && k < res.size(); ++k) {
      const ir::Value& o = g_.values[static_cast<size_t>(n.outputs[k])];
      if (res[k].shape == o.shape && res[k].type == o.type && res[k].elements() <= kDataElements)
        known_[static_cast<size_t>(n.outputs[k])] = std::make_shared<const ir::HostTensor>(std::move(res[k]));
    }
  }
};

}  // namespace

void check_declared_shapes(const ir::Graph& g, const std::string& source) { Checker(g, source).run(); }

}  // namespace seedchip::frontends
