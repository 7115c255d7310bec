// seedchip — the compiler driver: passes, dumps, lowering, I/O metadata.
#include "seedchip/compiler/compiler.h"

#include <array>
#include <algorithm>
#include <cfloat>
#include <set>
#include <cmath>
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lower/lowering.h"
#include "seedchip/numerics/convert.h"
#include "passes/passes.h"
#include "seedchip/hostops/hostops.h"

namespace seedchip::compiler {

std::optional<Precision> parse_precision(std::string_view s) {
  if (s == "fp32") return Precision::fp32;
  if (s == "bf16") return Precision::bf16;
  if (s == "fp8") return Precision::fp8;
  if (s == "int8") return Precision::int8;
  return std::nullopt;
}

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::bf16: return "bf16";
    case Precision::fp8: return "fp8";
    case Precision::int8: return "int8";
  }
  return "?";
}

namespace {

const char* kStages[] = {"import", "canonicalize", "fold", "fuse", "quantize"};

void dump(const CompileOptions& opt, const std::string& stage, const ir::Graph& g) {
  if (!opt.dump_ir.count(stage) && !opt.dump_ir.count("all")) return;
  std::string text = fmt::format("; --dump-ir={}\n{}", stage, ir::print(g));
  if (opt.dump_to) *opt.dump_to += text;
  else std::cerr << text;
}

}  // namespace

ir::Graph run_pass(const std::string& name, ir::Graph g) {
  if (name == "fold") return fold_constants(std::move(g));
  if (name == "fuse") return fuse(std::move(g));
  if (name == "canonicalize") return canonicalize(std::move(g));
  if (name == "dce") return remove_dead(std::move(g));
  throw CompileError(fmt::format("unknown pass '{}' (fold, canonicalize, fuse, dce)", name));
}

namespace {

// Runs `g` on the host reference evaluator (hostops) and returns the values
// named `names`; errors name the node the evaluator cannot run.
std::vector<ir::HostTensor> host_values(const ir::Graph& g, const std::vector<ir::HostTensor>& inputs,
                                        const std::vector<std::string>& names) {
  std::vector<std::shared_ptr<const ir::HostTensor>> val;
  try {
    val = hostops::eval_graph(g, inputs);
  } catch (const std::exception& e) {
    throw CompileError(fmt::format("calibrating activation scales on the host: {}", e.what()));
  }
  std::vector<ir::HostTensor> r;
  for (const auto& nm : names) {
    const int v = g.find_value(nm);
    if (v < 0 || !val[static_cast<size_t>(v)])
      throw CompileError(fmt::format("calibrating activation scales on the host: value '{}' is not computed", nm));
    r.push_back(*val[static_cast<size_t>(v)]);
  }
  return r;
}

}  // namespace

namespace {

// bf16/fp8/int8: a MatMul whose operand is a runtime fp32 tensor (attention
// scores, an ONNX graph whose weights are inputs) multiplies in bf16. Cast
// the operand once, on the vector engine, instead of converting every tile
// as it streams in: the GEMM then reads half the bytes and tiles with the
// reuse a bf16 GEMM has (the per-tile conversion made 8192^3 HBM-bound at
// 81% of the bf16 peak). The rounding is the same (fp32 -> bf16, nearest even).
//
// fp8: a MatMul of two runtime tensors whose second operand is a graph input
// (the weights of a graph that takes them as inputs; the 8192^3 benchmark) is
// quantised dynamically, per tensor, on the chip: m = max(max|x|, 1e-30),
// x_q = e4m3(x x (448 / m)) (one vector pass), the GEMM runs at the fp8 rate
// and its epilogue multiplies the fp32 accumulator by (m_a / 448) x (m_b / 448). Products of two computed tensors
// (attention's QK^T and PV) stay in bf16, as serving stacks keep them, for
// accuracy.
bool dynamic_fp8(const ir::Graph& g, const ir::Node& n, const CompileOptions& opt, const arch::Chip& chip) {
  if (opt.precision != Precision::fp8 || opt.dynamic_fp8 == CompileOptions::DynamicFp8::never || n.op != "MatMul" || n.has_attr("q_dtype") || n.inputs.size() != 2 || !chip.matrix_supports(DType::fp8e4m3))
    return false;
  const int a = n.inputs[0], b = n.inputs[1];
  if (a < 0 || b < 0) return false;
  const auto& va = g.values[static_cast<size_t>(a)];
  const auto& vb = g.values[static_cast<size_t>(b)];
  const auto& vo = g.values[static_cast<size_t>(n.outputs[0])];
  const bool is_float = va.type == ir::ElemType::f32 || va.type == ir::ElemType::bf16;
  if (!(is_float && !va.is_const() && !vb.is_const() && va.type == vb.type && vo.type == va.type && va.shape.size() >= 2 &&
        vb.shape.size() >= 2 && std::find(g.inputs.begin(), g.inputs.end(), b) != g.inputs.end()))
    return false;
  if (opt.dynamic_fp8 == CompileOptions::DynamicFp8::always) return true;
  // Only where it pays: the time the fp8 rate saves over bf16 against the
  // quantisation passes (about three vector operations per operand element,
  // and reading each operand twice and writing it once in e4m3), plus the
  // kernels' launch gaps. On seedchip-v1 the crossover lies between 2048^3 and 4096^3.
  auto elements = [](const ir::Value& v) {
    double e = 1;
    for (auto d : v.shape) e *= static_cast<double>(d);
    return e;
  };
  const double k = static_cast<double>(va.shape.back());
  const double macs = elements(vo) * k, operand = elements(va) + elements(vb);
  const double saved = macs * 2 * (1 / chip.peak_ops_per_s(DType::bf16) - 1 / chip.peak_ops_per_s(DType::fp8e4m3));
  const double bytes = operand * (2.0 * static_cast<double>(ir::elem_size(va.type)) + 1);
  const double vector_s = 3 * operand / (static_cast<double>(chip.core.vector.lanes) * chip.cores * chip.clock_hz);
  const double memory_s = bytes / (chip.memory.bandwidth_bytes_per_s * chip.timing.memory.efficiency_sequential);
  const double cost = std::max(vector_s, memory_s) + 6 * chip.timing.kernel_launch_ns * 1e-9;
  return saved > cost;
}

void quantize_dynamic_fp8(ir::Graph& g, ir::Node n, std::vector<ir::Node>& out) {
  auto value = [&](const std::string& name, ir::ElemType type, std::vector<int64_t> shape) {
    ir::Value v;
    v.name = name;
    v.type = type;
    v.shape = std::move(shape);
    return g.add_value(std::move(v));
  };
  auto constant = [&](const std::string& name, ir::ElemType type, double x) {
    ir::HostTensor h(type, {});
    h.set(0, x);
    ir::Value v;
    v.name = name;
    v.type = type;
    v.data = std::make_shared<const ir::HostTensor>(std::move(h));
    return g.add_value(std::move(v));
  };
  auto node = [&](const std::string& op, std::vector<int> in, int o, std::map<std::string, ir::Attr> attrs = {}, int opset = 13) {
    ir::Node x;
    x.name = g.values[static_cast<size_t>(o)].name;
    x.op = op;
    x.opset = opset;
    x.inputs = std::move(in);
    x.outputs = {o};
    x.attrs = std::move(attrs);
    out.push_back(std::move(x));
  };
  const std::string base = n.name + "/dynq";
  const auto f32 = ir::ElemType::f32;
  const int qmax = constant(base + "/qmax", f32, 448.0);
  const int inv_qmax = constant(base + "/inv_qmax", f32, 1.0 / 448.0);
  const int tiny = constant(base + "/tiny", f32, 1e-30);  // an all-zero tensor keeps a finite scale
  std::array<int, 2> scale{}, quant{};
  for (int k = 0; k < 2; ++k) {
    const int x = n.inputs[static_cast<size_t>(k)];
    const auto shape = g.values[static_cast<size_t>(x)].shape;
    const std::string p = fmt::format("{}{}", base, k ? "b" : "a");
    // max |x| one axis at a time, last first (a row of the whole tensor would
    // not fit in SRAM); only the first pass reads the tensor
    int mx = x;
    std::vector<int64_t> rest = shape;
    for (int step = 0; !rest.empty(); ++step) {
      rest.pop_back();
      const int r = value(fmt::format("{}/absmax{}", p, step), f32, rest);
      node(step == 0 ? "ReduceAbsMax" : "ReduceMax", {mx}, r, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{0}}});
      mx = r;
    }
    const int m = value(p + "/absmax", f32, {});
    node("Max", {mx, tiny}, m);
    scale[k] = value(p + "/scale", f32, {});
    node("Mul", {m, inv_qmax}, scale[k]);
    const int inv = value(p + "/inv_scale", f32, {});
    node("Div", {qmax, m}, inv);
    // x x (448 / max|x|) rounded to e4m3 (nearest even) as the vector engine stores it: one pass
    quant[k] = value(p + "/q", ir::ElemType::f8e4m3, shape);
    node("Mul", {x, inv}, quant[k]);
  }
  const int s = value(base + "/scale", f32, {});
  node("Mul", {scale[0], scale[1]}, s);
  // the GEMM's epilogue multiplies the accumulator by s_a x s_b (a third, internal, MatMul input)
  n.inputs = {quant[0], quant[1], s};
  out.push_back(std::move(n));
}

ir::Graph cast_runtime_operands(ir::Graph g, const CompileOptions& opt, const arch::Chip& chip) {
  const Precision p = opt.precision;
  if (p == Precision::fp32 || !chip.matrix_supports(DType::bf16)) return g;
  std::vector<ir::Node> out;
  int counter = 0;
  std::vector<ir::Node> nodes = std::move(g.nodes);
  for (auto& n : nodes) {
    if (dynamic_fp8(g, n, opt, chip)) {
      quantize_dynamic_fp8(g, std::move(n), out);
      continue;
    }
    if ((n.op == "MatMul" || n.op == "FusedMatMul") && !n.has_attr("q_dtype")) {
      for (size_t k = 0; k < 2 && k < n.inputs.size(); ++k) {
        const int v = n.inputs[k];
        if (v < 0 || g.values[static_cast<size_t>(v)].is_const() || g.values[static_cast<size_t>(v)].type != ir::ElemType::f32)
          continue;
        ir::Node c;
        c.name = fmt::format("{}_cast{}", n.name, counter++);
        c.op = "Cast";
        c.opset = 13;
        c.inputs = {v};
        c.attrs["to"] = int64_t{16};  // bfloat16
        ir::Value cv = g.values[static_cast<size_t>(v)];
        cv.name = c.name;
        cv.type = ir::ElemType::bf16;
        cv.data = nullptr;
        const int nv = g.add_value(std::move(cv));
        c.outputs = {nv};
        out.push_back(std::move(c));
        n.inputs[k] = nv;
      }
    }
    out.push_back(std::move(n));
  }
  g.nodes = std::move(out);
  return g;
}

}  // namespace

CompiledModel compile(const ir::Graph& input, const arch::Chip& chip, const CompileOptions& opt) {
  for (const auto& s : opt.dump_ir) {
    bool known = s == "all";
    for (const char* k : kStages) known = known || s == k;
    if (!known) throw CompileError(fmt::format("--dump-ir: unknown stage '{}' (import, canonicalize, fold, fuse, quantize, all)", s));
  }
  dump(opt, "import", input);
  ir::Graph g = fold_constants(input);
  g = canonicalize(std::move(g));
  dump(opt, "canonicalize", g);
  g = fold_constants(std::move(g));
  dump(opt, "fold", g);
  std::set<std::string> after_fold;
  for (const auto& n : g.nodes) after_fold.insert(n.name);
  const ir::Graph unfused = g;  // what the host reference evaluator calibrates on
  g = fuse(std::move(g), opt.constant_values);
  dump(opt, "fuse", g);
  if (opt.precision == Precision::int8 || opt.precision == Precision::fp8) {
    // Calibrate: run the fused graph in fp32 with every quantised matmul's
    // activation exposed as an extra output, and keep each one's max |x|.
    std::map<int, double> absmax;
    std::vector<int> watch;
    for (const auto& n : g.nodes) {
      const int a = quant_activation(g, n);
      if (a >= 0 && std::find(watch.begin(), watch.end(), a) == watch.end()) watch.push_back(a);
    }
    if (!watch.empty()) {
      if (opt.calibration.empty() && !opt.uncalibrated_ok)
        throw CompileError(fmt::format("--precision {} needs calibration inputs to choose activation scales",
                                       precision_name(opt.precision)));
    }
    // A chip whose matrix engine has no fp32 (tpu-v1) cannot run the fp32
    // graph: its scales come from the host reference evaluator, as they do
    // when no runner is given.
    const bool on_host = !opt.runner || !chip.matrix_supports(DType::fp32);
    if (!watch.empty() && !opt.calibration.empty() && on_host) {
      std::vector<std::string> names;
      for (int v : watch) names.push_back(g.values[v].name);
      for (const auto& set : opt.calibration) {
        const auto seen = host_values(unfused, set, names);
        for (size_t k = 0; k < watch.size(); ++k) {
          double& m = absmax[watch[k]];
          const auto& t = seen[k];
          for (int64_t i = 0; i < t.elements(); ++i) m = std::max(m, std::fabs(t.get(i)));
        }
      }
    } else if (!watch.empty() && !opt.calibration.empty()) {
      ir::Graph cal = g;
      const size_t first = cal.outputs.size();
      for (int v : watch) cal.outputs.push_back(v);
      CompileOptions fp;
      fp.cores = opt.cores;
      CompiledModel cm = compile(cal, chip, fp);
      for (const auto& set : opt.calibration) {
        auto outs = opt.runner(cm, set);
        for (size_t k = 0; k < watch.size(); ++k) {
          double& m = absmax[watch[k]];
          const auto& t = outs[first + k];
          for (int64_t i = 0; i < t.elements(); ++i) m = std::max(m, std::fabs(t.get(i)));
        }
      }
    }
    g = quantize(std::move(g), opt.precision, absmax);
    dump(opt, "quantize", g);
  }
  g = cast_runtime_operands(std::move(g), opt, chip);
  g.verify();
  Lowering lower(g, chip, opt);
  CompiledModel m = lower.run();
  // Nodes that no longer exist are reported too: folded into constants, or
  // fused into another node (fused names join the originals with '+').
  std::set<std::string> placed;
  for (const auto& p : m.placement) {
    size_t s = 0;
    for (;;) {
      const size_t e = p.node.find('+', s);
      placed.insert(p.node.substr(s, e - s));
      if (e == std::string::npos) break;
      s = e + 1;
    }
  }
  for (const auto& n : input.nodes)
    if (!placed.count(n.name)) m.placement.push_back({n.name, n.op, after_fold.count(n.name) ? "fused" : "folded", 0});
  m.program.metadata = io_metadata(m);
  return m;
}

std::vector<std::vector<std::string>> CompiledModel::instruction_labels() const {
  uint32_t ncores = 0;
  for (const auto& c : program.cores) ncores = std::max(ncores, c.core + 1);
  std::vector<std::vector<std::string>> labels(ncores);
  for (const auto& c : program.cores) labels[c.core].resize(c.code.size());
  for (const auto& r : ranges) {
    if (r.node >= placement.size() || r.core >= ncores) continue;
    auto& l = labels[r.core];
    for (uint32_t i = r.begin; i < r.end && i < l.size(); ++i) l[i] = placement[r.node].node;
  }
  return labels;
}

std::vector<uint8_t> to_chip_bytes(const ir::HostTensor& t, DType d, bool strict, const std::string& what) {
  const int64_t n = t.elements();
  if (t.type == ir::ElemType::f32 && d == DType::fp32) {
    // the same bits but NaNs, which become the canonical quiet NaN
    // (0x7fc00000): one copy (no zero fill first), then a read-only scan
    std::vector<uint8_t> out = ir::zeroed_bytes(0, static_cast<size_t>(4 * n));
    out.insert(out.end(), t.data.begin(), t.data.begin() + 4 * n);
    uint8_t* dst = out.data();
    for (int64_t i = 0; i < n; ++i) {
      uint32_t x;
      std::memcpy(&x, dst + 4 * i, 4);
      if ((x & 0x7fffffffu) > 0x7f800000u) {
        x = 0x7fc00000u;
        std::memcpy(dst + 4 * i, &x, 4);
      }
    }
    return out;
  }
  std::vector<uint8_t> out = ir::zeroed_bytes(static_cast<size_t>((n * dtype_bits(d) + 7) / 8));
  if (t.type == ir::ElemType::f32 && dtype_is_float(d)) {
    // fp32 on the host: the conversion below without the trip through double
    // (exact for every float; NaNs become the canonical quiet NaN as there)
    for (int64_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, t.data.data() + 4 * i, 4);
      if (std::isnan(f)) f = NAN;
      num::store_f32(d, out.data(), i, f);
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (dtype_is_float(d)) {
      double v = t.get(i);
      float f = std::isnan(v) ? NAN : std::fabs(v) > FLT_MAX ? (v > 0 ? INFINITY : -INFINITY) : static_cast<float>(v);
      // doubles beyond fp32's range but below its rounding threshold round to the max finite value
      if (std::isinf(f) && !std::isinf(v) && std::fabs(v) < 3.4028235677973366e38) f = v > 0 ? FLT_MAX : -FLT_MAX;
      num::store_f32(d, out.data(), i, f);
    } else {
      int64_t v = 0;
      if (ir::elem_is_float(t.type)) {
        // NaN has no integer value (0 here, an error for inputs); beyond int64 saturates
        const double x = t.get(i);
        if (std::isnan(x) && strict)
          throw CompileError(fmt::format("{}: value nan at element {} does not fit the chip's {}", what, i, dtype_name(d)));
        v = std::isnan(x) ? 0 : x >= 9.2e18 ? INT64_MAX : x <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(std::trunc(x));
      } else {
        v = t.get_int(i);
      }
      if (strict) {
        const int64_t lo = d == DType::int32 ? INT32_MIN : d == DType::int8 ? -128 : 0;
        const int64_t hi = d == DType::int32 ? INT32_MAX : d == DType::int8 ? 127 : 255;
        if (v < lo || v > hi)
          throw CompileError(fmt::format("{}: value {} at element {} does not fit the chip's {}", what, v, i, dtype_name(d)));
      }
      num::store_i64(d, out.data(), i, v);
    }
  }
  return out;
}

ir::HostTensor from_chip_bytes(const std::vector<uint8_t>& bytes, DType d, ir::ElemType type, std::vector<int64_t> shape) {
  ir::HostTensor t(type, std::move(shape));
  const int64_t n = t.elements();
  for (int64_t i = 0; i < n; ++i) {
    if (dtype_is_float(d)) t.set(i, num::load_f32(d, bytes.data(), i));
    else t.set_int(i, num::load_i64(d, bytes.data(), i));
  }
  return t;
}

namespace {

nlohmann::json attr_json(const ir::Attr& a) {
  struct V {
    nlohmann::json operator()(int64_t v) const { return {{"i", v}}; }
    nlohmann::json operator()(double v) const { return {{"f", v}}; }
    nlohmann::json operator()(const std::string& v) const { return {{"s", v}}; }
    nlohmann::json operator()(const std::vector<int64_t>& v) const { return {{"ints", v}}; }
    nlohmann::json operator()(const std::vector<double>& v) const { return {{"floats", v}}; }
    nlohmann::json operator()(const std::vector<std::string>& v) const { return {{"strings", v}}; }
    nlohmann::json operator()(const ir::HostTensor& t) const {
      return {{"t", {{"type", std::string(ir::elem_name(t.type))}, {"shape", t.shape}, {"data", t.data}}}};
    }
  };
  return std::visit(V{}, a);
}

ir::Attr attr_from_json(const nlohmann::json& j) {
  if (j.contains("i")) return j.at("i").get<int64_t>();
  if (j.contains("f")) return j.at("f").get<double>();
  if (j.contains("s")) return j.at("s").get<std::string>();
  if (j.contains("ints")) return j.at("ints").get<std::vector<int64_t>>();
  if (j.contains("floats")) return j.at("floats").get<std::vector<double>>();
  if (j.contains("strings")) return j.at("strings").get<std::vector<std::string>>();
  const auto& t = j.at("t");
  auto type = ir::parse_elem(t.at("type").get<std::string>());
  if (!type) throw CompileError("unknown tensor attribute type in program metadata");
  ir::HostTensor h(*type, t.at("shape").get<std::vector<int64_t>>());
  auto data = t.at("data").get<std::vector<uint8_t>>();
  if (data.size() != h.data.size()) throw CompileError("tensor attribute size mismatch in program metadata");
  h.data.assign(data.begin(), data.end());
  return h;
}

nlohmann::json ref_json(const std::optional<HostTensorRef>& r) {
  if (!r) return nullptr;
  return {{"addr", r->addr}, {"dtype", static_cast<int>(r->dtype)}, {"type", std::string(ir::elem_name(r->type))},
          {"shape", r->shape}};
}

std::optional<HostTensorRef> ref_from_json(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  HostTensorRef r;
  r.addr = j.at("addr").get<uint64_t>();
  const int d = j.at("dtype").get<int>();
  if (!dtype_valid(static_cast<unsigned>(d))) throw CompileError("bad dtype in program metadata");
  r.dtype = static_cast<DType>(d);
  auto t = ir::parse_elem(j.at("type").get<std::string>());
  if (!t) throw CompileError("bad element type in program metadata");
  r.type = *t;
  r.shape = j.at("shape").get<std::vector<int64_t>>();
  return r;
}

}  // namespace

std::string io_metadata(const CompiledModel& m) {
  nlohmann::json j;
  auto io = [](const std::vector<IoBinding>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& b : v)
      a.push_back({{"name", b.name}, {"symbol", b.symbol}, {"type", std::string(ir::elem_name(b.type))}, {"shape", b.shape}});
    return a;
  };
  j["seedchip_model"] = 1;
  j["inputs"] = io(m.inputs);
  j["outputs"] = io(m.outputs);
  nlohmann::json pl = nlohmann::json::array();
  for (const auto& p : m.placement) pl.push_back({p.node, p.op, p.where, p.instructions});
  j["placement"] = pl;
  nlohmann::json hops = nlohmann::json::array();
  for (const auto& h : m.host_ops) {
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [k, a] : h.node.attrs) attrs[k] = attr_json(a);
    nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
    for (const auto& r : h.inputs) ins.push_back(ref_json(r));
    for (const auto& r : h.outputs) outs.push_back(ref_json(r));
    hops.push_back({{"name", h.node.name}, {"op", h.node.op}, {"domain", h.node.domain}, {"opset", h.node.opset},
                    {"attrs", attrs}, {"inputs", ins}, {"outputs", outs}});
  }
  j["host_ops"] = hops;
  nlohmann::json rg = nlohmann::json::array();
  for (const auto& r : m.ranges) rg.push_back({r.node, r.core, r.begin, r.end});
  j["ranges"] = rg;
  return j.dump();
}

void load_io_metadata(CompiledModel& m) {
  if (m.program.metadata.empty())
    throw CompileError("program carries no model description (it was not compiled from a model; use `seedchip sim`)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(m.program.metadata);
  } catch (const std::exception& e) {
    throw CompileError(fmt::format("program metadata is not valid JSON: {}", e.what()));
  }
  if (!j.is_object() || !j.contains("seedchip_model"))
    throw CompileError("program carries no model description (was it compiled from a model?)");
  try {
    auto io = [&](const nlohmann::json& a, std::vector<IoBinding>& out) {
      for (const auto& b : a) {
        auto t = ir::parse_elem(b.at("name").is_string() ? b.at("type").get<std::string>() : "");
        if (!t) throw CompileError("unknown element type in program metadata");
        out.push_back({b.at("name").get<std::string>(), b.at("symbol").get<std::string>(), *t,
                       b.at("shape").get<std::vector<int64_t>>()});
      }
    };
    io(j.at("inputs"), m.inputs);
    io(j.at("outputs"), m.outputs);
    for (const auto& h : j.value("host_ops", nlohmann::json::array())) {
      HostOp op;
      op.node.name = h.at("name").get<std::string>();
      op.node.op = h.at("op").get<std::string>();
      op.node.domain = h.at("domain").get<std::string>();
      op.node.opset = h.at("opset").get<int>();
      for (const auto& [k, a] : h.at("attrs").items()) op.node.attrs[k] = attr_from_json(a);
      for (const auto& r : h.at("inputs")) op.inputs.push_back(ref_from_json(r));
      for (const auto& r : h.at("outputs")) op.outputs.push_back(ref_from_json(r));
      m.host_ops.push_back(std::move(op));
    }
    for (const auto& r : j.value("ranges", nlohmann::json::array()))
      m.ranges.push_back({r.at(0).get<uint32_t>(), r.at(1).get<uint32_t>(), r.at(2).get<uint32_t>(), r.at(3).get<uint32_t>()});
    for (const auto& p : j.value("placement", nlohmann::json::array()))
      m.placement.push_back({p.at(0).get<std::string>(), p.at(1).get<std::string>(), p.at(2).get<std::string>(),
                             p.at(3).get<uint64_t>()});
  } catch (const nlohmann::json::exception& e) {
    throw CompileError(fmt::format("program metadata is malformed: {}", e.what()));
  }
  for (const auto& b : m.inputs)
    if (!m.program.find_symbol(b.symbol)) throw CompileError(fmt::format("program metadata names missing symbol '{}'", b.symbol));
  for (const auto& b : m.outputs)
    if (!m.program.find_symbol(b.symbol)) throw CompileError(fmt::format("program metadata names missing symbol '{}'", b.symbol));
}

}  // namespace seedchip::compiler
