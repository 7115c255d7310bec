// seedchip — lowering driver: memory planning, generic tiled kernels, and
// dispatch of each node to its kernel family.
#include "lowering.h"

#include <algorithm>
#include <numeric>

#include "seedchip/hostops/hostops.h"

#include <fmt/format.h>

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Space;

// ---------------------------------------------------------------- TileGrid

TileGrid::TileGrid(std::vector<int64_t> s, int64_t max_elems, int min_inner) : shape(std::move(s)) {
  const int rank = static_cast<int>(shape.size());
  for (auto d : shape)
    if (d == 0) {  // empty tensor: nothing to do
      count = 0;
      return;
    }
  if (rank == 0) {
    axis = 0;
    chunk = 1;
    count = 1;
    return;
  }
  // Find the outermost axis whose inner block fits; chunk that axis.
  int64_t inner = 1;
  axis = rank - 1;
  for (int d = rank - 1; d >= 0; --d) {
    const bool must_keep = d >= rank - min_inner;
    if (inner * shape[d] > max_elems && !must_keep) {
      axis = d;
      break;
    }
    inner *= shape[d];
    axis = d;
    if (d == 0) break;
  }
  int64_t inside = 1;
  for (int d = axis + 1; d < rank; ++d) inside *= shape[d];
  if (inside * shape[axis] <= max_elems) {
    chunk = shape[axis];
  } else {
    chunk = std::max<int64_t>(1, max_elems / std::max<int64_t>(inside, 1));
  }
  count = (shape[axis] + chunk - 1) / chunk;
  for (int d = 0; d < axis; ++d) count *= shape[d];
}

View TileGrid::tile_view(const View& v, int64_t t) const {
  View r = v;
  if (shape.empty()) return r;
  const int64_t per_axis = (shape[axis] + chunk - 1) / chunk;
  int64_t c = t % per_axis;
  int64_t outer = t / per_axis;
  for (int d = axis - 1; d >= 0; --d) {
    r = r.slice(d, outer % shape[d], 1);
    outer /= shape[d];
  }
  const int64_t start = c * chunk;
  return r.slice(axis, start, std::min(chunk, shape[axis] - start));
}

std::vector<int64_t> TileGrid::tile_shape(int64_t t) const {
  if (shape.empty()) return {};
  std::vector<int64_t> s = shape;
  const int64_t per_axis = (shape[axis] + chunk - 1) / chunk;
  const int64_t start = (t % per_axis) * chunk;
  for (int d = 0; d < axis; ++d) s[d] = 1;
  s[axis] = std::min(chunk, shape[axis] - start);
  return s;
}

// ---------------------------------------------------------------- Lowering

DType chip_dtype(ir::ElemType t) {
  switch (t) {
    case ir::ElemType::f32: case ir::ElemType::f64: return DType::fp32;
    case ir::ElemType::f16: return DType::fp16;
    case ir::ElemType::bf16: return DType::bf16;
    case ir::ElemType::f8e4m3: return DType::fp8e4m3;
    case ir::ElemType::f8e5m2: return DType::fp8e5m2;
    case ir::ElemType::i8: return DType::int8;
    case ir::ElemType::u8: case ir::ElemType::boolean: return DType::uint8;
    default: return DType::int32;
  }
}

bool is_alias_op(const ir::Node& n) {
  static const char* kAlias[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"};
  for (const char* a : kAlias)
    if (n.op == a) return n.outputs.size() == 1 || n.op == "Dropout";
  return false;
}

Lowering::Lowering(const ir::Graph& g, const arch::Chip& chip, const CompileOptions& opt)
    : g_(g), chip_(chip), opt_(opt), em_(chip, opt.cores > 0 ? std::min<int>(opt.cores, static_cast<int>(chip.cores))
                                                            : static_cast<int>(chip.cores)) {}

void Lowering::fail(const ir::Node& n, const std::string& why) const {
  throw CompileError(fmt::format("node '{}' ({}, opset {}): {}", n.name, n.op, n.opset, why));
}

void Lowering::host(const ir::Node& n, const std::string& why) const {
  throw NeedsHost(fmt::format("node '{}' ({}, opset {}): {}", n.name, n.op, n.opset, why));
}

DType Lowering::dt(int v) const { return chip_dtype(g_.values[v].type); }

const ir::HostTensor* Lowering::constant(int v) const {
  return v >= 0 && g_.values[v].is_const() ? g_.values[v].data.get() : nullptr;
}

View Lowering::hbm(int v) const {
  const auto& val = g_.values[v];
  const int s = storage_of_[v];
  if (s < 0) throw CompileError(fmt::format("internal: value '{}' has no storage", val.name));
  return View::dense(Space::hbm, storage_[s].addr, dt(v), val.shape);
}

namespace {
std::vector<uint8_t> chip_bytes(const ir::HostTensor& t, DType d) { return to_chip_bytes(t, d); }
}  // namespace

View Lowering::scratch(DType t, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  const uint64_t addr = kScratchBase + scratch_top_;
  scratch_top_ = align64(scratch_top_ + std::max<uint64_t>(1, static_cast<uint64_t>(n) * dtype_bits(t) / 8));
  scratch_peak_ = std::max(scratch_peak_, scratch_top_);
  // Refused here, before a scratch address could run past kScratchBase's range.
  if (scratch_top_ > chip_.memory.capacity_bytes)
    throw CompileError(fmt::format("the model needs over {} bytes of HBM scratch but chip '{}' has {} bytes of HBM",
                                   scratch_top_, chip_.name, chip_.memory.capacity_bytes));
  return View::dense(Space::hbm, addr, t, std::move(shape));
}

void Lowering::place_scratch(std::vector<std::vector<isa::Instr>>& streams) {
  const uint64_t base = hbm_top_;
  hbm_top_ = align64(hbm_top_ + scratch_peak_);
  if (scratch_peak_ == 0) return;
  for (auto& s : streams)
    for (auto& in : s)
      for (isa::Operand* o : {&in.dst, &in.a, &in.b})
        if (o->space == Space::hbm && o->addr >= kScratchBase) o->addr = o->addr - kScratchBase + base;
}

View Lowering::add_constant(const ir::HostTensor& t, DType d) {
  const uint64_t addr = hbm_top_;
  const uint64_t size = (static_cast<uint64_t>(t.elements()) * dtype_bits(d) + 7) / 8;
  hbm_top_ = align64(hbm_top_ + std::max<uint64_t>(size, 1));
  constant_bytes_ += size;
  if (opt_.constant_values) prog_.data.push_back({addr, chip_bytes(t, d)});
  return View::dense(Space::hbm, addr, d, t.shape);
}

void Lowering::plan_memory() {
  const int nv = static_cast<int>(g_.values.size());
  storage_of_.assign(nv, -1);
  std::vector<int> last_use(nv, -1);
  const int nn = static_cast<int>(g_.nodes.size());
  // Alias ops share their input's storage; resolve chains in node order.
  std::vector<char> is_out(nv, 0);
  for (int o : g_.outputs) is_out[o] = 1;
  std::vector<int>& root = root_;
  root.resize(nv);
  std::iota(root.begin(), root.end(), 0);
  // Graph outputs are never aliases: they get their own storage and a copy.
  for (const auto& n : g_.nodes)
    if (is_alias_op(n) && n.inputs[0] >= 0 && !is_out[n.outputs[0]]) root[n.outputs[0]] = root[n.inputs[0]];
  for (int i = 0; i < nn; ++i)
    for (int v : g_.nodes[i].inputs)
      if (v >= 0) last_use[root[v]] = std::max(last_use[root[v]], i);
  auto new_storage = [&](int v, bool fixed) {
    Storage s;
    s.bytes = align64(std::max<uint64_t>(1, static_cast<uint64_t>(g_.values[v].elements()) * dtype_bits(dt(v)) / 8));
    s.fixed = fixed;
    storage_.push_back(s);
    return static_cast<int>(storage_.size() - 1);
  };
  // Fixed storage first: inputs and outputs get symbols at stable addresses.
  for (int v : g_.inputs) storage_of_[v] = new_storage(v, true);
  for (int v : g_.outputs)
    if (storage_of_[v] < 0) storage_of_[v] = new_storage(v, true);
  // Constants used at run time: one data block each.
  for (int v = 0; v < nv; ++v)
    if (g_.values[v].is_const() && last_use[v] >= 0 && storage_of_[v] < 0) storage_of_[v] = new_storage(v, true);
  for (auto& s : storage_)
    if (s.fixed) {
      s.addr = hbm_top_;
      hbm_top_ = align64(hbm_top_ + s.bytes);
    }
  for (int v = 0; v < nv; ++v)
    if (g_.values[v].is_const() && storage_of_[v] >= 0) {
      constant_bytes_ += (static_cast<uint64_t>(g_.values[v].elements()) * dtype_bits(dt(v)) + 7) / 8;
      if (opt_.constant_values) prog_.data.push_back({storage_[storage_of_[v]].addr, chip_bytes(*g_.values[v].data, dt(v))});
    }
  // A graph output that is also an input or a constant is copied into its own storage.
  for (int o : g_.outputs)
    if (std::find(g_.inputs.begin(), g_.inputs.end(), o) != g_.inputs.end() || g_.values[o].is_const())
      copy_outputs_.push_back(o);
  // Intermediates: first-fit reuse over node order by liveness.
  struct Block {
    uint64_t addr, bytes;
    int free_after;  // node index after which the block is free
  };
  std::vector<Block> live;
  const uint64_t arena = hbm_top_;
  uint64_t arena_top = arena;
  for (int i = 0; i < nn; ++i) {
    const auto& n = g_.nodes[i];
    for (int o : n.outputs) {
      if (o < 0 || storage_of_[o] >= 0) continue;
      if (root[o] != o) continue;  // alias: resolved below
      const int s = new_storage(o, false);
      storage_of_[o] = s;
      const int until = std::max(last_use[o], i);
      // free blocks: those whose last use is before node i
      std::sort(live.begin(), live.end(), [](const Block& a, const Block& b) { return a.addr < b.addr; });
      uint64_t cursor = arena;
      uint64_t chosen = UINT64_MAX;
      for (const auto& b : live) {
        if (b.free_after >= i) {
          if (b.addr >= cursor + storage_[s].bytes) break;
          cursor = std::max(cursor, b.addr + b.bytes);
        }
      }
      chosen = cursor;
      storage_[s].addr = chosen;
      live.push_back({chosen, storage_[s].bytes, until});
      arena_top = std::max(arena_top, chosen + storage_[s].bytes);
    }
    for (int o : n.outputs)
      if (o >= 0 && storage_of_[o] < 0 && root[o] != o) storage_of_[o] = storage_of_[root[o]];
  }
  // Graph outputs that alias another tensor get their own storage and a copy (see run()).
  hbm_top_ = align64(arena_top);
  if (hbm_top_ > chip_.memory.capacity_bytes)
    throw CompileError(fmt::format("the model needs {} bytes of HBM but chip '{}' has {}", hbm_top_, chip_.name,
                                   chip_.memory.capacity_bytes));
}

void Lowering::record_ranges(const Emitter::Mark& before) {
  const Emitter::Mark after = em_.mark();
  for (size_t c = 0; c < after.sizes.size(); ++c)
    if (after.sizes[c] > before.sizes[c])
      ranges_.push_back({static_cast<uint32_t>(placement_.size() - 1), static_cast<uint32_t>(c),
                         static_cast<uint32_t>(before.sizes[c]), static_cast<uint32_t>(after.sizes[c])});
}

void Lowering::lower_node(const ir::Node& n) {
  scratch_top_ = 0;  // the previous node's scratch is free: its kernels ended at a barrier
  const auto start_mark = em_.mark();
  struct Record {  // attributes the node's instructions to its placement entry on every exit
    Lowering& L;
    const Emitter::Mark& m;
    size_t placed;
    ~Record() {
      if (L.placement_.size() > placed) L.record_ranges(m);
    }
  } record{*this, start_mark, placement_.size()};
  const uint64_t before = em_.instructions();
  if (n.op == "Dropout") {
    // Inference: y = x and the optional mask is all true. A training_mode
    // input that is not a constant false needs random masks: not supported.
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const ir::HostTensor* t = constant(n.inputs[2]);
      if (!t || t->get_int(0) != 0) fail(n, "training mode (random masks) is not supported; inference only");
    }
    if (n.opset < 7 && n.attr_int("is_test", 0) == 0) fail(n, "is_test=0 (training mode) is not supported");
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) fill(hbm(n.outputs[1]), 1.0);
  }
  if (is_alias_op(n)) {
    const int o = n.outputs[0];
    if (root_[o] == o) {  // a graph output: materialise with a copy
      const View src = hbm(n.inputs[0]);
      copy(View::dense(Space::hbm, src.addr, src.dtype, {src.elements()}),
           View::dense(Space::hbm, hbm(o).addr, dt(o), {g_.values[o].elements()}));
      placement_.push_back({n.name, n.op, "chip", em_.instructions() - before});
    } else {
      placement_.push_back({n.name, n.op, "alias", 0});
    }
    return;
  }
  const auto mark = em_.mark();
  const size_t data_before = prog_.data.size();
  const uint64_t top_before = hbm_top_, constants_before = constant_bytes_, peak_before = scratch_peak_;
  try {
    if (lower_elementwise(*this, n) || lower_layout(*this, n) || lower_reduce(*this, n) || lower_matmul(*this, n) ||
        lower_attention(*this, n)) {
      placement_.push_back({n.name, n.op, "chip", em_.instructions() - before});
      return;
    }
    host(n, "this op is not supported on the chip (see docs/ops.md for the supported ops)");
  } catch (const NeedsHost&) {
    // Data-dependent parameters or ops the chip cannot do: run the node on the
    // host at a host.call, when the host evaluator knows it.
    if (!hostops::supported(n)) throw;
    em_.rollback(mark);
    prog_.data.resize(data_before);
    hbm_top_ = top_before;
    scratch_peak_ = peak_before;
    constant_bytes_ = constants_before;
    lower_on_host(n);
  }
}

void Lowering::lower_on_host(const ir::Node& n) {
  HostOp h;
  h.node.name = n.name;
  h.node.op = n.op;
  h.node.domain = n.domain;
  h.node.opset = n.opset;
  h.node.attrs = n.attrs;
  auto ref = [&](int v) -> std::optional<HostTensorRef> {
    if (v < 0) return std::nullopt;
    const View x = hbm(v);
    return HostTensorRef{x.addr, x.dtype, g_.values[v].type, g_.values[v].shape};
  };
  for (int v : n.inputs) h.inputs.push_back(ref(v));
  for (int v : n.outputs) h.outputs.push_back(ref(v));
  const int64_t id = static_cast<int64_t>(host_ops_.size());
  host_ops_.push_back(std::move(h));
  const uint64_t before = em_.instructions();
  em_.host_call(id);
  placement_.push_back({n.name, n.op, "host", em_.instructions() - before});
}

CompiledModel Lowering::run() {
  plan_memory();
  CompiledModel m;
  // Input symbols first: an input that is also an output is copied into new
  // storage below, and the input must keep the storage it is written to.
  for (size_t i = 0; i < g_.inputs.size(); ++i) {
    const int v = g_.inputs[i];
    isa::Symbol s;
    s.name = fmt::format("in{}", i);
    s.kind = isa::SymbolKind::input;
    s.dtype = dt(v);
    for (auto d : g_.values[v].shape) s.dims.push_back(static_cast<uint64_t>(d));
    s.addr = storage_[storage_of_[v]].addr;
    prog_.symbols.push_back(s);
    m.inputs.push_back({g_.values[v].name, s.name, g_.values[v].type, g_.values[v].shape});
  }
  for (const auto& n : g_.nodes) lower_node(n);
  for (int o : copy_outputs_) {
    const auto& val = g_.values[o];
    Storage s;
    s.bytes = align64(std::max<uint64_t>(1, static_cast<uint64_t>(val.elements()) * dtype_bits(dt(o)) / 8));
    s.addr = hbm_top_;
    s.fixed = true;
    hbm_top_ = align64(hbm_top_ + s.bytes);
    const View src = hbm(o);
    storage_.push_back(s);
    storage_of_[o] = static_cast<int>(storage_.size() - 1);
    copy(src, hbm(o));
  }
  // Symbols for the outputs.
  auto sym = [&](int v, isa::SymbolKind kind, const std::string& name) {
    isa::Symbol s;
    s.name = name;
    s.kind = kind;
    s.dtype = dt(v);
    for (auto d : g_.values[v].shape) s.dims.push_back(static_cast<uint64_t>(d));
    s.addr = storage_[storage_of_[v]].addr;
    prog_.symbols.push_back(s);
    return IoBinding{g_.values[v].name, name, g_.values[v].type, g_.values[v].shape};
  };
  for (size_t i = 0; i < g_.outputs.size(); ++i)
    m.outputs.push_back(sym(g_.outputs[i], isa::SymbolKind::output, fmt::format("out{}", i)));
  auto streams = em_.take_streams();
  place_scratch(streams);
  if (hbm_top_ > chip_.memory.capacity_bytes)
    throw CompileError(fmt::format("the model needs {} bytes of HBM but chip '{}' has {}", hbm_top_, chip_.name,
                                   chip_.memory.capacity_bytes));
  prog_.target = chip_.name;
  prog_.fingerprint = chip_.isa_fingerprint();
  for (size_t c = 0; c < streams.size(); ++c)
    if (!streams[c].empty()) prog_.cores.push_back({static_cast<uint32_t>(c), std::move(streams[c])});
  m.program = std::move(prog_);
  m.constant_bytes = constant_bytes_;
  m.constant_values = opt_.constant_values;
  m.placement = std::move(placement_);
  m.host_ops = std::move(host_ops_);
  m.ranges = std::move(ranges_);
  return m;
}

// ---------------------------------------------------------------- generic kernels

// Elements per tile of a streaming kernel: at most what a slot holds, but
// small enough that every core gets a few tiles to pipeline (one huge tile on
// one core leaves the others idle and serialises load, compute and store);
// no smaller than 16 Ki elements, so DMA set-up stays amortised.
int64_t Lowering::stream_tile_elems(const std::vector<int64_t>& shape, int64_t max_elems) const {
  int64_t total = 1;
  for (auto d : shape) total *= d;
  const int64_t want = (total + 4 * em_.cores() - 1) / (4 * em_.cores());
  return std::clamp<int64_t>(want, std::min<int64_t>(16384, max_elems), max_elems);
}

uint64_t Lowering::elementwise(const std::vector<View>& inputs, const View& out, int temps, const EwBody& body) {
  int64_t bytes_per_elem = out.esize() + 4 * temps;
  for (const auto& v : inputs) bytes_per_elem += v.esize();
  // 64-byte alignment slack per buffer
  const int64_t nbuf = static_cast<int64_t>(inputs.size()) + 1 + temps;
  const int64_t max_elems = std::max<int64_t>(1, (static_cast<int64_t>(em_.slot_bytes()) - 64 * nbuf) / bytes_per_elem);
  TileGrid grid(out.shape, stream_tile_elems(out.shape, max_elems));
  return em_.pipeline(grid.count, [&](int64_t t, int slot) {
    Tile tile;
    const auto ts = grid.tile_shape(t);
    int64_t te = 1;
    for (auto d : ts) te *= d;
    uint64_t cursor = em_.slot_base(slot);
    auto buf = [&](DType d) {
      View v = View::dense(Space::sram, cursor, d, ts);
      cursor += align64(static_cast<uint64_t>(te) * dtype_bits(d) / 8);
      return v;
    };
    std::vector<View> in_bufs;
    for (const auto& v : inputs) {
      const View tv = grid.tile_view(v, t);
      // A broadcast input (zero strides) is loaded once, compactly, and read
      // by the vector engine through zero-stride SRAM views: loading it
      // expanded would fetch the same element from HBM again and again.
      std::vector<int64_t> cshape = ts;
      bool bcast = false;
      for (size_t d = 0; d < ts.size(); ++d)
        if (tv.strides[d] == 0 && ts[d] > 1) cshape[d] = 1, bcast = true;
      if (!bcast) {
        View b = buf(v.dtype);
        in_bufs.push_back(b);
        auto ins = split_instr(Op::load, ts, b, tv, nullptr, nullptr, {0, 0, 0});
        tile.loads.insert(tile.loads.end(), ins.begin(), ins.end());
        continue;
      }
      View cb = buf(v.dtype);  // reserved at full size: the slot budget above assumed it
      cb = View::dense(Space::sram, cb.addr, v.dtype, cshape);
      View src = tv;
      src.shape = cshape;
      auto ins = split_instr(Op::load, cshape, cb, src, nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), ins.begin(), ins.end());
      View use = cb;
      use.shape = ts;
      for (size_t d = 0; d < ts.size(); ++d)
        if (cshape[d] != ts[d]) use.strides[d] = 0;
      in_bufs.push_back(use);
    }
    View ob = buf(out.dtype);
    body(tile.compute, in_bufs, ob, [&](DType d) { return buf(d); });
    auto st = split_instr(Op::store, ts, grid.tile_view(out, t), ob, nullptr, nullptr, {0, 0, 0});
    tile.stores = std::move(st);
    return tile;
  });
}

uint64_t Lowering::copy(const View& src, const View& dst) {
  // Load the source pattern densely into SRAM, store it into the destination pattern.
  const int64_t max_elems = std::max<int64_t>(1, static_cast<int64_t>(em_.slot_bytes() - 64) / src.esize());
  TileGrid grid(dst.shape, stream_tile_elems(dst.shape, max_elems));
  return em_.pipeline(grid.count, [&](int64_t t, int slot) {
    Tile tile;
    const auto ts = grid.tile_shape(t);
    View b = View::dense(Space::sram, em_.slot_base(slot), src.dtype, ts);
    tile.loads = split_instr(Op::load, ts, b, grid.tile_view(src, t), nullptr, nullptr, {0, 0, 0});
    tile.stores = split_instr(Op::store, ts, grid.tile_view(dst, t), b, nullptr, nullptr, {0, 0, 0});
    return tile;
  });
}

uint64_t Lowering::fill(const View& dst, double value) {
  const int64_t max_elems = std::max<int64_t>(1, static_cast<int64_t>(em_.slot_bytes() - 64) / dst.esize());
  TileGrid grid(dst.shape, stream_tile_elems(dst.shape, max_elems));
  const bool integer = dtype_is_int(dst.dtype);
  return em_.pipeline(grid.count, [&](int64_t t, int slot) {
    Tile tile;
    const auto ts = grid.tile_shape(t);
    View b = View::dense(Space::sram, em_.slot_base(slot), dst.dtype, ts);
    isa::Operand v = imm(value, integer);
    tile.compute = split_instr(Op::v_copy, ts, b, b, nullptr, nullptr, {1, 0, 0});
    for (auto& in : tile.compute) in.a = v;
    tile.stores = split_instr(Op::store, ts, grid.tile_view(dst, t), b, nullptr, nullptr, {0, 0, 0});
    return tile;
  });
}

}  // namespace seedchip::compiler
