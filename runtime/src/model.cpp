// seedchip — model runner: host tensors <-> HBM, functional simulation.
#include "seedchip/runtime/model.h"

#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/hostops/hostops.h"

namespace seedchip::runtime {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}
}  // namespace

std::vector<ir::HostTensor> run_model(const compiler::CompiledModel& m, const arch::Chip& chip,
                                      const std::vector<ir::HostTensor>& inputs, sim::RunStats* stats,
                                      std::function<void(double)> progress, unsigned threads) {
  if (inputs.size() != m.inputs.size())
    throw std::runtime_error(fmt::format("the model takes {} inputs, {} given", m.inputs.size(), inputs.size()));
  if (!m.constant_values)
    throw std::runtime_error("the model was compiled for the timing model only (without its constants' values); "
                             "compile it again to run it");
  sim::FunctionalSim s(chip, m.program);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& b = m.inputs[i];
    const auto& t = inputs[i];
    if (t.shape != b.shape)
      throw std::runtime_error(fmt::format("input '{}': shape {} does not match the model's {}", b.name,
                                           shape_str(t.shape), shape_str(b.shape)));
    if (t.type != b.type)
      throw std::runtime_error(fmt::format("input '{}': element type {} does not match the model's {}", b.name,
                                           ir::elem_name(t.type), ir::elem_name(b.type)));
    const isa::Symbol* sym = m.program.find_symbol(b.symbol);
    s.write_hbm(sym->addr, compiler::to_chip_bytes(t, sym->dtype, true, fmt::format("input '{}'", b.name)));
  }
  s.set_host_handler([&](int64_t id) {
    if (id < 0 || id >= static_cast<int64_t>(m.host_ops.size()))
      throw std::runtime_error(fmt::format("host.call {}: the program has {} host ops", id, m.host_ops.size()));
    const auto& h = m.host_ops[static_cast<size_t>(id)];
    std::vector<ir::HostTensor> ins;
    ins.reserve(h.inputs.size());
    for (const auto& r : h.inputs) {
      if (!r) {
        ins.emplace_back();
        continue;
      }
      int64_t n = 1;
      for (auto d : r->shape) n *= d;
      std::vector<uint8_t> bytes(static_cast<size_t>((n * dtype_bits(r->dtype) + 7) / 8));
      s.read_hbm(r->addr, bytes);
      ins.push_back(compiler::from_chip_bytes(bytes, r->dtype, r->type, r->shape));
    }
    std::vector<const ir::HostTensor*> ptrs;
    for (size_t i = 0; i < ins.size(); ++i) ptrs.push_back(h.inputs[i] ? &ins[i] : nullptr);
    std::vector<ir::HostTensor> outs;
    try {
      outs = hostops::eval(h.node, ptrs);
    } catch (const std::exception& e) {
      // a value only known at run time is out of range: name the model it came from
      if (m.source.empty()) throw;
      throw std::runtime_error(fmt::format("{}: {}", m.source, e.what()));
    }
    for (size_t k = 0; k < h.outputs.size(); ++k) {
      const auto& r = h.outputs[k];
      if (!r) continue;
      if (k >= outs.size() || outs[k].shape != r->shape)
        throw std::runtime_error(fmt::format("host op '{}' ({}): output {} has shape {}, the program expects {}",
                                             h.node.name, h.node.op, k, k < outs.size() ? shape_str(outs[k].shape) : "none",
                                             shape_str(r->shape)));
      s.write_hbm(r->addr, compiler::to_chip_bytes(outs[k], r->dtype));
    }
  });
  if (progress) s.set_progress(std::move(progress));
  s.set_threads(threads);
  sim::RunStats st = s.run();
  if (stats) *stats = st;
  std::vector<ir::HostTensor> outs;
  for (const auto& b : m.outputs) {
    const isa::Symbol* sym = m.program.find_symbol(b.symbol);
    std::vector<uint8_t> bytes(sym->bytes());
    s.read_hbm(sym->addr, bytes);
    outs.push_back(compiler::from_chip_bytes(bytes, sym->dtype, b.type, b.shape));
  }
  return outs;
}

ir::HostTensor random_input(const compiler::IoBinding& b, uint32_t seed) {
  ir::HostTensor t(b.type, b.shape);
  std::mt19937 g(seed);
  for (int64_t i = 0; i < t.elements(); ++i) {
    if (ir::elem_is_float(b.type)) t.set(i, static_cast<double>(g() >> 8) / 16777216.0 * 2.0 - 1.0);
    else if (b.type == ir::ElemType::boolean) t.set_int(i, g() & 1);
    else t.set_int(i, static_cast<int64_t>(g() % 10));  // small: valid as indices for most models
  }
  return t;
}

std::string stream_mismatch(const sim::RunStats& st, const sim::TimingResult& r) {
  for (size_t c = 0; c < r.engines.size(); ++c)
    for (int e = 0; e < isa::kNumEngines; ++e)
      if (c < st.order_hash.size() && st.order_hash[c][e] != r.engines[c][e].order_hash)
        return fmt::format("core {} {}", c, isa::engine_name(static_cast<isa::Engine>(e)));
  return {};
}

}  // namespace seedchip::runtime
