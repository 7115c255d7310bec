// seedchip — views, instruction splitting and the tile pipeline.
#include "emitter.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cassert>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"

namespace seedchip::compiler {

using isa::Engine;
using isa::Instr;
using isa::Op;
using isa::Operand;

View View::dense(isa::Space s, uint64_t addr, DType t, std::vector<int64_t> shape) {
  View v;
  v.space = s;
  v.addr = addr;
  v.dtype = t;
  v.shape = std::move(shape);
  v.strides.assign(v.shape.size(), 0);
  int64_t st = 1;
  for (size_t i = v.shape.size(); i-- > 0;) {
    v.strides[i] = st;
    st *= v.shape[i];
  }
  return v;
}

int64_t View::elements() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

View View::slice(int axis, int64_t start, int64_t len, int64_t step) const {
  View v = *this;
  const int64_t off = start * strides[axis] * esize();
  v.addr = static_cast<uint64_t>(static_cast<int64_t>(addr) + off);
  v.shape[axis] = len;
  v.strides[axis] = strides[axis] * step;
  return v;
}

View View::permute(const std::vector<int>& perm) const {
  View v = *this;
  for (size_t i = 0; i < perm.size(); ++i) {
    v.shape[i] = shape[perm[i]];
    v.strides[i] = strides[perm[i]];
  }
  return v;
}

View View::as(DType t) const {
  View v = *this;
  v.dtype = t;
  return v;
}

View View::insert_dim(int axis, int64_t size) const {
  View v = *this;
  v.shape.insert(v.shape.begin() + axis, size);
  v.strides.insert(v.strides.begin() + axis, 0);
  return v;
}

Operand imm(double v, bool integer) {
  if (!integer) return Operand::imm_float(static_cast<float>(v));
  // saturate (a Clip bound of -inf on integers is the type's minimum); casting
  // an out-of-range double to int is undefined
  if (std::isnan(v)) return Operand::imm_int(0);
  const double c = std::clamp(v, static_cast<double>(INT32_MIN), static_cast<double>(INT32_MAX));
  return Operand::imm_int(static_cast<int32_t>(c));
}

std::vector<Instr> split_instr(Op op, const std::vector<int64_t>& shape, const View& dst, const View& a,
                               const View* b, const Operand* imm_b, std::array<int64_t, 3> params, bool keep_last) {
  std::vector<const View*> ops = {&dst, &a};
  if (b) ops.push_back(b);
  const int rank = static_cast<int>(shape.size());
  for (const View* v : ops)
    if (static_cast<int>(v->strides.size()) != rank)
      throw CompileError(fmt::format("internal: view rank {} does not match shape rank {}", v->strides.size(), rank));
  // Working copy: dims (size, per-operand strides), outermost first.
  struct Dim {
    int64_t n;
    std::array<int64_t, 3> st;
  };
  std::vector<Dim> dims;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 0) return {};
    const bool last = d == rank - 1;
    if (shape[d] == 1 && !(keep_last && last)) continue;
    Dim x{shape[d], {0, 0, 0}};
    for (size_t k = 0; k < ops.size(); ++k) x.st[k] = ops[k]->strides[d];
    dims.push_back(x);
  }
  if (dims.empty()) dims.push_back({1, {1, 1, 1}});
  // Merge an outer dim into its inner neighbour when contiguous for every operand.
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) {
    if (keep_last && i + 1 == static_cast<int>(dims.size()) - 1) continue;
    bool ok = true;
    for (size_t k = 0; k < ops.size(); ++k)
      if (dims[i].st[k] != dims[i + 1].st[k] * dims[i + 1].n) ok = false;
    if (!ok) continue;
    dims[i + 1].n *= dims[i].n;
    dims.erase(dims.begin() + i);
  }
  for (const auto& d : dims)
    if (d.n > 0xFFFFFFFFll) throw CompileError("internal: a dimension exceeds 32 bits after merging");
  const int lead = std::max(0, static_cast<int>(dims.size()) - isa::kMaxRank);
  const int r = static_cast<int>(dims.size()) - lead;
  std::vector<Instr> out;
  std::vector<int64_t> idx(lead, 0);
  for (;;) {
    Instr in;
    in.op = op;
    in.rank = static_cast<uint8_t>(r);
    for (int d = 0; d < r; ++d) in.shape[d] = static_cast<uint32_t>(dims[lead + d].n);
    for (int i = 0; i < 3; ++i) in.param[i] = params[i];
    for (size_t k = 0; k < ops.size(); ++k) {
      Operand o;
      o.space = ops[k]->space;
      o.dtype = ops[k]->dtype;
      o.rank = static_cast<uint8_t>(r);
      int64_t off = 0;
      for (int d = 0; d < lead; ++d) off += idx[d] * dims[d].st[k];
      o.addr = static_cast<uint64_t>(static_cast<int64_t>(ops[k]->addr) + off * ops[k]->esize());
      for (int d = 0; d < r; ++d) o.stride[d] = dims[lead + d].st[k];
      (k == 0 ? in.dst : k == 1 ? in.a : in.b) = o;
    }
    if (!b && imm_b) in.b = *imm_b;
    out.push_back(in);
    int d = lead - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < dims[d].n) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

Emitter::Emitter(const arch::Chip& chip, int cores) : chip_(chip) {
  streams_.resize(static_cast<size_t>(cores));
  slot_bytes_ = slot_bytes_of(chip);
  acc_slot_bytes_ = acc_slot_bytes_of(chip);
}

void Emitter::barrier() {
  for (auto& s : streams_) {
    Instr in;
    in.op = Op::barrier;
    in.param[0] = next_barrier_;
    s.push_back(in);
  }
  next_barrier_ = (next_barrier_ + 1) % 65536;
}

void Emitter::host_call(int64_t id) {
  for (auto& s : streams_) {
    Instr in;
    in.op = Op::host_call;
    in.param[0] = id;
    s.push_back(in);
  }
}

namespace {

// Semaphores of the tile protocol (docs/compiler.md): per core, balanced per kernel.
constexpr uint8_t kLoaded = 0, kComputed = 1, kInFree = 2, kOutFree = 3, kLinkBase = 4;

Instr nop_on(Engine e) {
  Instr in;
  in.op = Op::nop;
  in.param[0] = static_cast<int64_t>(e);
  return in;
}

}  // namespace

uint64_t Emitter::emit_core_tiles(int core, int64_t first, int64_t count, int64_t group,
                                  const std::function<Tile(int64_t, int, int)>& make) {
  auto& out = streams_[static_cast<size_t>(core)];
  current_core_ = core;
  const size_t start = out.size();
  const bool grouped = group > 1;
  const uint8_t link_base = grouped ? kLinkBase + 1 : kLinkBase;  // kLinkBase is kAccFree when grouped
  const uint8_t kAccFree = kLinkBase;
  std::map<std::pair<Engine, Engine>, uint8_t> links;
  const int64_t ngroups = count / group;
  // Each tile's loads are placed in the stream before the previous tile's
  // compute (software pipelining of the dispatch order): engines queue at
  // most queue_depth instructions, so loads emitted after a long compute
  // sequence would reach the DMA engine only once most of it has issued.
  std::vector<isa::Instr> pending_compute_stores;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t g = j / group;  // group on this core; its last tile is the one that stores
    const bool first_of_group = j % group == 0, last_of_group = j % group == group - 1;
    Tile tile = make(first + j, static_cast<int>(j % 2), static_cast<int>(g % 2));
    const bool more = j + 2 < count;             // a later tile reuses this input slot
    const bool more_out = g + 2 < ngroups;       // a later group reuses this output buffer
    auto& L = tile.loads;
    auto& C = tile.compute;
    auto& S = tile.stores;
    if (grouped && !last_of_group && !S.empty())
      throw CompileError("internal: only the last tile of a group may store");
    if (!L.empty()) {
      if (j >= 2) L.front().wait = kInFree;
      L.back().signal = kLoaded;
    }
    if (!C.empty()) {
      for (size_t i = 1; i < C.size(); ++i) {
        const Engine e0 = C[i - 1].engine(), e1 = C[i].engine();
        if (e0 == e1) continue;
        auto it = links.find({e0, e1});
        if (it == links.end()) it = links.emplace(std::pair{e0, e1}, static_cast<uint8_t>(link_base + links.size())).first;
        C[i - 1].signal = it->second;
        C[i].wait = it->second;
      }
      std::vector<Instr> pre, post;
      const Engine first_e = C.front().engine(), last_e = C.back().engine();
      if (!L.empty()) C.front().wait = kLoaded;
      if (g >= 2 && !S.empty()) {
        Instr n = nop_on(first_e);
        n.wait = kOutFree;
        pre.push_back(n);
      }
      if (grouped && first_of_group && g >= 2) {  // the accumulator half is free again
        Instr n = nop_on(first_e);
        n.wait = kAccFree;
        pre.push_back(n);
      }
      if (!S.empty()) C.back().signal = kComputed;
      if (more && !L.empty()) {
        Instr n = nop_on(last_e);
        n.signal = kInFree;
        post.push_back(n);
      }
      if (grouped && last_of_group && more_out) {
        Instr n = nop_on(last_e);
        n.signal = kAccFree;
        post.push_back(n);
      }
      C.insert(C.begin(), pre.begin(), pre.end());
      C.insert(C.end(), post.begin(), post.end());
    }
    if (!S.empty()) {
      if (!C.empty()) S.front().wait = kComputed;
      else if (!L.empty()) S.front().wait = kLoaded;
      if (grouped ? more_out : more) S.back().signal = C.empty() ? kInFree : kOutFree;
    }
    out.insert(out.end(), L.begin(), L.end());
    out.insert(out.end(), pending_compute_stores.begin(), pending_compute_stores.end());
    pending_compute_stores.assign(C.begin(), C.end());
    pending_compute_stores.insert(pending_compute_stores.end(), S.begin(), S.end());
  }
  out.insert(out.end(), pending_compute_stores.begin(), pending_compute_stores.end());
  if (links.size() + link_base > chip_.core.semaphores)
    throw CompileError(fmt::format("chip {} has {} semaphores; the tile protocol needs {}", chip_.name,
                                   chip_.core.semaphores, links.size() + link_base));
  return out.size() - start;
}

uint64_t Emitter::pipeline(int64_t ntiles, const std::function<Tile(int64_t, int)>& make) {
  return pipeline_groups(ntiles, 1, [&](int64_t t, int slot, int) { return make(t, slot); });
}

uint64_t Emitter::pipeline_groups(int64_t ntiles, int64_t group, const std::function<Tile(int64_t, int, int)>& make) {
  uint64_t n = 0;
  const int64_t nc = cores();
  const int64_t ngroups = ntiles / group;
  const int64_t per = ngroups / nc, extra = ngroups % nc;
  int64_t g = 0;
  for (int c = 0; c < nc; ++c) {
    const int64_t count = per + (c < extra ? 1 : 0);
    if (count) n += emit_core_tiles(c, g * group, count * group, group, make);
    g += count;
  }
  barrier();
  return n + static_cast<uint64_t>(nc);
}

}  // namespace seedchip::compiler
