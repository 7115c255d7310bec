// seedchip — ONNX frontend: ModelProto -> ir::Graph.
#include "seedchip/frontends/onnx.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/checker.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "seedchip/frontends/onnx_detail.h"
#include "schema_guards.h"
#include "shape_data.h"

// TensorProto raw_data is little-endian; copying it as-is needs a matching host.
static_assert(std::endian::native == std::endian::little, "the ONNX importer assumes a little-endian host");

namespace seedchip::frontends {

namespace {

using onnx::AttributeProto;
using onnx::TensorProto;
using onnx::TypeProto;

/// Largest tensor accepted (elements); guards the size arithmetic against overflow.
constexpr int64_t kMaxElements = int64_t{1} << 40;

/// Joins a possibly multi-line message (ONNX's are) into one line.
std::string one_line(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !r.empty();
      continue;
    }
    if (space) r += ' ';
    space = false;
    r += c;
  }
  return r;
}

/// Throws the one-line ImportError every failure is reported with.
[[noreturn]] void fail(const std::string& msg) { throw ImportError(one_line(msg)); }

/// The first line of an ONNX exception message plus its "==> Context:" part,
/// which is where the checker names the node.
std::string onnx_reason(const std::string& what) {
  std::string first = what.substr(0, what.find('\n'));
  const auto ctx = what.find("==> Context:");
  if (ctx != std::string::npos && first.find("==> Context:") == std::string::npos)
    first += " (" + one_line(what.substr(ctx + 12)) + ")";
  return first;
}

/// ONNX's lower-case name of a TensorProto data type ("float", "string").
std::string elem_type_name(int32_t dt) {
  if (!TensorProto::DataType_IsValid(dt)) return fmt::format("data type {}", dt);
  std::string s = TensorProto::DataType_Name(static_cast<TensorProto::DataType>(dt));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

/// "node 'name' (Op)" plus the domain when it is not the default one.
std::string node_desc(const onnx::NodeProto& n) {
  if (is_default_domain(n.domain())) return fmt::format("node '{}' ({})", n.name(), n.op_type());
  return fmt::format("node '{}' ({}, domain '{}')", n.name(), n.op_type(), n.domain());
}

template <typename T>
void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

/// Copies the typed repeated field `src` into `out` as elements of type T.
template <typename T, typename Field>
void copy_typed(const Field& src, ir::HostTensor& out) {
  for (int i = 0; i < src.size(); ++i)
    put<T>(out.data.data() + static_cast<size_t>(i) * sizeof(T), static_cast<T>(src.Get(i)));
}

/// A whole file, mapped read-only: parsing reads it in place, and a
/// timing-only import never touches the pages of the weights it skips.
/// Throws ImportError naming the file when it cannot be read.
class FileView {
 public:
  /// `populate`: map every page now (one call, where faulting them in one by
  /// one is slow) because all of them will be read.
  explicit FileView(const std::string& path, bool populate = false) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(fmt::format("{}: cannot read: is a directory", path));
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd_, 0);
    if (p == MAP_FAILED) {
      // not mappable (a pipe, a special file): read it instead
      std::ifstream f(path, std::ios::binary);
      copy_.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
      if (!f.eof() && f.fail()) fail(fmt::format("{}: read error: {}", path, std::strerror(errno)));
      size_ = copy_.size();
      return;
    }
    map_ = static_cast<const char*>(p);
  }
  ~FileView() {
    if (map_) ::munmap(const_cast<char*>(map_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  FileView(const FileView&) = delete;
  FileView& operator=(const FileView&) = delete;
  std::string_view bytes() const { return map_ ? std::string_view(map_, size_) : std::string_view(copy_); }

 private:
  int fd_ = -1;
  const char* map_ = nullptr;
  size_t size_ = 0;
  std::string copy_;
};

// ---- large weights kept out of the protobuf parse (read directly, or not at all) ----

using WFL = google::protobuf::internal::WireFormatLite;

/// One field of a serialized message.
struct WireField {
  int number = 0;
  WFL::WireType type = WFL::WIRETYPE_VARINT;
  std::string_view whole;    ///< tag and payload as serialized
  std::string_view payload;  ///< length-delimited fields: the bytes inside
  uint64_t varint = 0;       ///< varint fields: the value
};

/// Splits a serialized message into its fields; false when it is malformed
/// (the full parser then reports it).
bool split_fields(std::string_view msg, std::vector<WireField>& out) {
  out.clear();
  if (msg.size() > static_cast<size_t>(INT32_MAX)) return false;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(msg.data()), static_cast<int>(msg.size()));
  for (;;) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    WireField f;
    f.number = WFL::GetTagFieldNumber(tag);
    f.type = WFL::GetTagWireType(tag);
    if (f.type == WFL::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len)) return false;
      const int at = in.CurrentPosition();
      if (len > msg.size() - static_cast<size_t>(at) || !in.Skip(static_cast<int>(len))) return false;
      f.payload = msg.substr(static_cast<size_t>(at), len);
    } else if (f.type == WFL::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&f.varint)) return false;
    } else if (!WFL::SkipField(&in, tag)) {
      return false;
    }
    f.whole = msg.substr(static_cast<size_t>(start), static_cast<size_t>(in.CurrentPosition() - start));
    out.push_back(f);
  }
  return static_cast<size_t>(in.CurrentPosition()) == msg.size();
}

void append_len_field(std::string& out, int number, std::string_view payload) {
  google::protobuf::io::StringOutputStream s(&out);
  google::protobuf::io::CodedOutputStream o(&s);
  o.WriteTag(WFL::MakeTag(number, WFL::WIRETYPE_LENGTH_DELIMITED));
  o.WriteVarint32(static_cast<uint32_t>(payload.size()));
  o.WriteRaw(payload.data(), static_cast<int>(payload.size()));
}

/// Element types of weights: floating-point and 8-bit (quantised) tensors.
/// Wider integers may hold shapes or indices and are left to the parser.
bool is_weight_data_type(uint64_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::DOUBLE || t == TensorProto::FLOAT16 || t == TensorProto::BFLOAT16 ||
         t == TensorProto::INT8 || t == TensorProto::UINT8;
}

/// A weight TensorProto with its raw_data (skip_from bytes or more) replaced
/// by a placeholder, the bytes themselves going to *skipped; nullopt when
/// kept as it is.
std::optional<std::string> strip_tensor(std::string_view tensor, uint64_t skip_from, std::string_view* skipped) {
  std::vector<WireField> fs;
  if (!split_fields(tensor, fs)) return std::nullopt;
  uint64_t data_type = 0;
  const WireField* raw = nullptr;
  for (const auto& f : fs) {  // protobuf: the last occurrence of a singular field wins
    if (f.number == TensorProto::kDataTypeFieldNumber && f.type == WFL::WIRETYPE_VARINT) data_type = f.varint;
    if (f.number == TensorProto::kRawDataFieldNumber && f.type == WFL::WIRETYPE_LENGTH_DELIMITED) raw = &f;
  }
  if (!raw || raw->payload.size() < std::max<uint64_t>(skip_from, 1) || !is_weight_data_type(data_type)) return std::nullopt;
  *skipped = raw->payload;
  std::string out;
  for (const auto& f : fs)
    if (f.number != TensorProto::kRawDataFieldNumber) out += f.whole;
  // one placeholder byte: the checker counts a tensor's value fields by their size
  append_len_field(out, TensorProto::kRawDataFieldNumber, std::string_view("\0", 1));
  return out;
}

/// The serialized model with the raw bytes of the main graph's weight
/// initializers of skip_from bytes and more left out, without reading those
/// bytes; skipped[i] views the bytes taken from the i-th initializer. nullopt
/// when the model cannot be split (it is then parsed whole).
std::optional<std::string> strip_weights(std::string_view model, uint64_t skip_from,
                                        std::map<int, std::string_view>& skipped) {
  std::vector<WireField> mf, gf;
  if (!split_fields(model, mf)) return std::nullopt;
  std::string out;
  int index = 0;  // a graph field given twice merges into one: its initializers follow the first's
  for (const auto& f : mf) {
    if (f.number != onnx::ModelProto::kGraphFieldNumber || f.type != WFL::WIRETYPE_LENGTH_DELIMITED) {
      out += f.whole;
      continue;
    }
    if (!split_fields(f.payload, gf)) return std::nullopt;
    std::string graph;
    for (const auto& g : gf) {
      if (g.number != onnx::GraphProto::kInitializerFieldNumber || g.type != WFL::WIRETYPE_LENGTH_DELIMITED) {
        graph += g.whole;
        continue;
      }
      std::string_view n;
      if (auto t = strip_tensor(g.payload, skip_from, &n)) {
        append_len_field(graph, onnx::GraphProto::kInitializerFieldNumber, *t);
        skipped[index] = n;
      } else {
        graph += g.whole;
      }
      ++index;
    }
    append_len_field(out, onnx::ModelProto::kGraphFieldNumber, graph);
  }
  return out;
}

/// Rejects attribute kinds the IR cannot hold; done before the checker so a
/// control-flow model gets this message rather than a later shape failure.
void check_attr_kind(const AttributeProto& a, const onnx::NodeProto& n, const std::string& src) {
  const auto where = fmt::format("{}: {} attribute '{}'", src, node_desc(n), a.name());
  switch (a.type()) {
    case AttributeProto::GRAPH:
    case AttributeProto::GRAPHS: fail(where + " is a subgraph: control flow is unsupported");
    case AttributeProto::SPARSE_TENSOR:
    case AttributeProto::SPARSE_TENSORS: fail(where + " is a sparse tensor, which is unsupported");
    case AttributeProto::TYPE_PROTO:
    case AttributeProto::TYPE_PROTOS: fail(where + " is a type, which is unsupported");
    case AttributeProto::TENSORS: fail(where + " is a list of tensors, which is unsupported");
    case AttributeProto::UNDEFINED:
      if (!a.ref_attr_name().empty()) fail(where + " refers to a function attribute, which is unsupported");
      fail(where + " has no type");
    default: break;
  }
  if (a.type() == AttributeProto::TENSOR && a.t().data_location() == TensorProto::EXTERNAL)
    fail(where + ": external data is unsupported");
}

/// The IR form of an attribute (kinds the IR lacks were rejected earlier).
ir::Attr convert_attr(const AttributeProto& a, const onnx::NodeProto& n, const std::string& src) {
  switch (a.type()) {
    case AttributeProto::FLOAT: return static_cast<double>(a.f());
    case AttributeProto::INT: return static_cast<int64_t>(a.i());
    case AttributeProto::STRING: return a.s();
    case AttributeProto::TENSOR:
      return tensor_from_proto(a.t(), fmt::format("{}: {} attribute '{}'", src, node_desc(n), a.name()));
    case AttributeProto::FLOATS: return std::vector<double>(a.floats().begin(), a.floats().end());
    case AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    default: check_attr_kind(a, n, src);
  }
  fail(fmt::format("{}: {} attribute '{}' has an unsupported type", src, node_desc(n), a.name()));
}

/// Gives every node a unique, non-empty name: the model's where it has one
/// (first use wins), else "<op>_<index>"; clashes get "_<k>" appended.
void name_nodes(onnx::GraphProto& g) {
  std::unordered_set<std::string> used;
  std::vector<bool> keep(static_cast<size_t>(g.node_size()), false);
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& nm = g.node(i).name();
    if (!nm.empty() && used.insert(nm).second) keep[static_cast<size_t>(i)] = true;
  }
  for (int i = 0; i < g.node_size(); ++i) {
    if (keep[static_cast<size_t>(i)]) continue;
    auto* n = g.mutable_node(i);
    const std::string base = n->name().empty() ? fmt::format("{}_{}", n->op_type(), i) : n->name();
    std::string nm = base;
    for (int k = 1; !used.insert(nm).second; ++k) nm = fmt::format("{}_{}", base, k);
    n->set_name(nm);
  }
}

/// Replaces symbolic dimensions named in `dims` by their values.
void bind_dims(TypeProto* t, const std::map<std::string, int64_t>& dims) {
  if (!t->has_tensor_type() || !t->tensor_type().has_shape()) return;
  for (auto& d : *t->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
    if (!d.has_dim_param()) continue;
    auto it = dims.find(d.dim_param());
    if (it != dims.end()) d.set_dim_value(it->second);
  }
}

/// Element type and static shape of a tensor type; `what` starts the message.
/// Inputs must be static before inference; outputs after it (messages differ).
std::pair<ir::ElemType, std::vector<int64_t>> static_type(const TypeProto& t, const std::string& what,
                                                          bool is_input) {
  if (t.value_case() == TypeProto::VALUE_NOT_SET || (t.has_tensor_type() && t.tensor_type().elem_type() == 0))
    fail(what + (is_input ? " has no type" : " has no type after shape inference"));
  if (!t.has_tensor_type()) fail(fmt::format("{} has type {}, which is unsupported", what, onnx_type_name(t)));
  const auto& tt = t.tensor_type();
  const auto et = elem_from_onnx(tt.elem_type());
  if (!et) fail(fmt::format("{} has type {}, which is unsupported", what, onnx_type_name(t)));
  if (!tt.has_shape())
    fail(what + (is_input ? " has no shape (unknown rank)" : " has an unknown shape after shape inference"));
  std::vector<int64_t> shape;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) fail(fmt::format("{} has negative dimension {} ({})", what, i, d.dim_value()));
      shape.push_back(d.dim_value());
    } else if (is_input && d.has_dim_param()) {
      fail(fmt::format("{} has symbolic dimension '{}': pass --dim {}=N", what, d.dim_param(), d.dim_param()));
    } else if (is_input) {
      fail(fmt::format("{} has an unknown size in dimension {} (neither a value nor a name)", what, i));
    } else if (d.has_dim_param()) {
      fail(fmt::format("{} has dynamic dimension {} ('{}') after shape inference", what, i, d.dim_param()));
    } else {
      fail(fmt::format("{} has dynamic dimension {} after shape inference", what, i));
    }
  }
  return {*et, std::move(shape)};
}

using Types = std::unordered_map<std::string, const TypeProto*>;

/// The declared or inferred type of every named value of `g`.
Types collect_types(const onnx::GraphProto& g) {
  Types t;
  for (const auto& v : g.value_info()) t[v.name()] = &v.type();
  for (const auto& v : g.output()) t[v.name()] = &v.type();
  for (const auto& v : g.input()) t[v.name()] = &v.type();
  return t;
}

/// True when `name` has a tensor type with an element type and a static shape.
bool is_static(const Types& types, const std::string& name) {
  auto it = types.find(name);
  if (it == types.end() || !it->second->has_tensor_type()) return false;
  const auto& tt = it->second->tensor_type();
  if (tt.elem_type() == 0 || !tt.has_shape()) return false;
  const auto& dims = tt.shape().dim();
  return std::all_of(dims.begin(), dims.end(), [](const auto& d) { return d.has_dim_value(); });
}

/// Rewrites a strict shape-inference failure as one line that names the node.
/// ONNX reports "(op_type:X, node name: N): reason"; all nodes have names by now.
[[noreturn]] void fail_inference(const std::string& src, const onnx::GraphProto& g, const std::string& what) {
  size_t best = std::string::npos;
  const onnx::NodeProto* node = nullptr;
  for (const auto& n : g.node()) {
    const auto pos = what.find("node name: " + n.name() + "):");
    if (pos != std::string::npos && pos < best) best = pos, node = &n;
  }
  if (!node) fail(fmt::format("{}: shape inference failed: {}", src, what));
  std::string reason = what.substr(best + 13 + node->name().size());
  reason = reason.substr(0, reason.find('\n'));
  fail(fmt::format("{}: shape inference failed at {}: {}", src, node_desc(*node), reason));
}

/// The whole import of a parsed model; `m` is modified (names, dims, types).
ir::Graph import_model(onnx::ModelProto& m, const std::string& src, const ImportOptions& opt,
                       const std::map<int, std::string_view>& skipped) {
  for (const auto& [k, v] : opt.dims)
    if (v <= 0) fail(fmt::format("{}: --dim {}={}: the value must be positive", src, k, v));

  std::unordered_map<std::string, int> opsets;
  for (const auto& o : m.opset_import()) {
    const std::string dom = is_default_domain(o.domain()) ? "" : o.domain();
    if (dom.empty() && o.version() > opt.max_opset)
      fail(fmt::format("{}: opset {} of domain '{}' is newer than the supported {}", src, o.version(), o.domain(),
                       opt.max_opset));
    auto [it, fresh] = opsets.emplace(dom, static_cast<int>(o.version()));
    if (!fresh && it->second != o.version())
      fail(fmt::format("{}: domain '{}' is imported with opsets {} and {}", src, dom, it->second, o.version()));
  }
  if (!m.has_graph()) fail(src + ": not a valid ONNX model (no graph)");
  onnx::GraphProto& g = *m.mutable_graph();

  // "ai.onnx" is an alias of the default domain that onnx 1.12's schema
  // lookup does not know; spell it "" everywhere.
  m.clear_opset_import();
  for (const auto& [dom, ver] : opsets) {
    auto* o = m.add_opset_import();
    o->set_domain(dom);
    o->set_version(ver);
  }
  for (auto& n : *g.mutable_node())
    if (n.domain() == "ai.onnx") n.set_domain("");
  name_nodes(g);

  // Our own structural checks first: they name the node and value involved,
  // where the checker's messages are less direct or refer to files.
  if (g.sparse_initializer_size() > 0)
    fail(fmt::format("{}: sparse initializer '{}' is unsupported", src, g.sparse_initializer(0).values().name()));
  std::set<std::pair<std::string, std::string>> local_functions;
  for (const auto& f : m.functions()) local_functions.emplace(f.domain(), f.name());
  std::unordered_set<std::string> defined;
  for (const auto& t : g.initializer()) {
    if (t.data_location() == TensorProto::EXTERNAL)
      fail(fmt::format("{}: initializer '{}': external data is unsupported", src, t.name()));
    defined.insert(t.name());
  }
  for (const auto& i : g.input()) defined.insert(i.name());
  for (const auto& n : g.node()) {
    if (local_functions.count({n.domain(), n.op_type()}))
      fail(fmt::format("{}: {} calls a model-local function, which is unsupported", src, node_desc(n)));
    for (const auto& a : n.attribute()) check_attr_kind(a, n, src);
    for (const auto& in : n.input())
      if (!in.empty() && !defined.count(in))
        fail(fmt::format("{}: {}: input '{}' is not a graph input, initializer or output of an earlier node", src,
                         node_desc(n), in));
    for (const auto& out : n.output())
      if (!out.empty()) defined.insert(out);
  }
  for (const auto& o : g.output())
    if (!defined.count(o.name()))
      fail(fmt::format("{}: graph output '{}' is not a graph input, initializer or node output", src, o.name()));

  // Inputs are checked (with dims bound) before the checker, which would
  // reject a missing shape less clearly.
  for (auto& i : *g.mutable_input()) bind_dims(i.mutable_type(), opt.dims);
  for (auto& v : *g.mutable_value_info()) bind_dims(v.mutable_type(), opt.dims);
  for (auto& o : *g.mutable_output()) bind_dims(o.mutable_type(), opt.dims);
  std::unordered_set<std::string> init_names;
  for (const auto& t : g.initializer()) init_names.insert(t.name());
  for (const auto& i : g.input())
    if (!init_names.count(i.name())) static_type(i.type(), fmt::format("{}: input '{}'", src, i.name()), true);

  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    fail(fmt::format("{}: onnx checker: {}", src, onnx_reason(e.what())));
  }

  // Trailing omitted outputs are dropped; inner ones get a name so that shape
  // inference types them and the IR (which has no "absent output") can hold them.
  for (auto& n : *g.mutable_node()) {
    while (n.output_size() > 0 && n.output(n.output_size() - 1).empty()) n.mutable_output()->RemoveLast();
    for (int k = 0; k < n.output_size(); ++k) {
      if (!n.output(k).empty()) continue;
      std::string nm = fmt::format("{}.unused{}", n.name(), k);
      while (defined.count(nm)) nm += "_";
      defined.insert(nm);
      n.set_output(k, nm);
    }
  }

  // Strict mode turns per-node inference errors into an exception; data
  // propagation resolves shapes computed by Shape/Gather/Concat chains where
  // onnx 1.12 supports it, and infer_with_shape_data does the rest. The
  // guarded schemas turn inputs that crash onnx's shape functions into errors.
  const onnx::ShapeInferenceOptions so(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/true);
  onnx::ModelProto refined;  // holds the types when the second stage was needed
  const onnx::GraphProto* typed = &g;
  try {
    onnx::shape_inference::InferShapes(m, detail::guarded_schemas(), so);
    auto all_static = [&](const onnx::GraphProto& tg) {
      const auto types = collect_types(tg);
      for (const auto& n : g.node())
        for (const auto& o : n.output())
          if (!is_static(types, o)) return false;
      return true;
    };
    if (!all_static(g)) {
      refined = detail::infer_with_shape_data(m, so, all_static);
      typed = &refined.graph();
    }
  } catch (const std::exception& e) {
    fail_inference(src, g, e.what());
  }
  const auto types = collect_types(*typed);

  ir::Graph out;
  out.name = g.name();
  std::unordered_map<std::string, int> index;
  auto add = [&](ir::Value v) {
    const std::string nm = v.name;
    if (!index.emplace(nm, 0).second) fail(fmt::format("{}: value '{}' is defined twice", src, nm));
    index[nm] = out.add_value(std::move(v));
    return index[nm];
  };
  for (int i = 0; i < g.initializer_size(); ++i) {
    const auto& t = g.initializer(i);
    const auto sk = skipped.find(i);
    auto data = std::make_shared<ir::HostTensor>(
        tensor_from_proto(t, fmt::format("{}: initializer '{}'", src, t.name()),
                          sk == skipped.end() ? std::nullopt : std::optional<std::string_view>(sk->second),
                          sk == skipped.end() || opt.weight_values));
    add(ir::Value{t.name(), data->type, data->shape, std::move(data)});
  }
  for (const auto& i : g.input()) {
    if (init_names.count(i.name())) continue;
    auto [et, shape] = static_type(i.type(), fmt::format("{}: input '{}'", src, i.name()), true);
    out.inputs.push_back(add(ir::Value{i.name(), et, std::move(shape), nullptr}));
  }
  for (const auto& n : g.node()) {
    ir::Node node;
    node.name = n.name();
    node.op = n.op_type();
    node.domain = n.domain();
    auto os = opsets.find(node.domain);
    if (os == opsets.end()) fail(fmt::format("{}: {}: the model imports no opset for its domain", src, node_desc(n)));
    node.opset = os->second;
    for (const auto& in : n.input()) node.inputs.push_back(in.empty() ? -1 : index.at(in));
    for (const auto& o : n.output()) {
      const auto what = fmt::format("{}: {} output '{}'", src, node_desc(n), o);
      auto it = types.find(o);
      if (it == types.end()) fail(what + " has no type after shape inference");
      auto [et, shape] = static_type(*it->second, what, false);
      node.outputs.push_back(add(ir::Value{o, et, std::move(shape), nullptr}));
    }
    for (const auto& a : n.attribute()) node.attrs.emplace(a.name(), convert_attr(a, n, src));
    out.nodes.push_back(std::move(node));
  }
  for (const auto& o : g.output()) out.outputs.push_back(index.at(o.name()));

  try {
    out.verify();
  } catch (const ir::IrError& e) {
    fail(fmt::format("{}: {}", src, e.what()));
  }
  return out;
}

}  // namespace

std::optional<ir::ElemType> elem_from_onnx(int32_t data_type) {
  using E = ir::ElemType;
  switch (data_type) {
    case TensorProto::FLOAT: return E::f32;
    case TensorProto::DOUBLE: return E::f64;
    case TensorProto::FLOAT16: return E::f16;
    case TensorProto::BFLOAT16: return E::bf16;
    case TensorProto::INT8: return E::i8;
    case TensorProto::UINT8: return E::u8;
    case TensorProto::INT16: return E::i16;
    case TensorProto::UINT16: return E::u16;
    case TensorProto::INT32: return E::i32;
    case TensorProto::UINT32: return E::u32;
    case TensorProto::INT64: return E::i64;
    case TensorProto::UINT64: return E::u64;
    case TensorProto::BOOL: return E::boolean;
    default: return std::nullopt;
  }
}

std::string onnx_type_name(const TypeProto& t) {
  switch (t.value_case()) {
    case TypeProto::kTensorType: return "tensor(" + elem_type_name(t.tensor_type().elem_type()) + ")";
    case TypeProto::kSparseTensorType:
      return "sparse_tensor(" + elem_type_name(t.sparse_tensor_type().elem_type()) + ")";
    case TypeProto::kSequenceType: return "seq(" + onnx_type_name(t.sequence_type().elem_type()) + ")";
    case TypeProto::kOptionalType: return "optional(" + onnx_type_name(t.optional_type().elem_type()) + ")";
    case TypeProto::kMapType:
      return "map(" + elem_type_name(t.map_type().key_type()) + "," + onnx_type_name(t.map_type().value_type()) + ")";
    case TypeProto::kOpaqueType: return "opaque(" + t.opaque_type().domain() + "." + t.opaque_type().name() + ")";
    case TypeProto::VALUE_NOT_SET: break;
  }
  return "unknown";
}

ir::HostTensor tensor_from_proto(const TensorProto& t, const std::string& what, std::optional<std::string_view> raw,
                                 bool values) {
  if (t.data_location() == TensorProto::EXTERNAL) fail(what + ": external data is unsupported");
  if (t.has_segment()) fail(what + ": segmented tensors are unsupported");
  const auto et = elem_from_onnx(t.data_type());
  if (!et) fail(fmt::format("{}: element type {} is unsupported", what, elem_type_name(t.data_type())));
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) fail(fmt::format("{}: negative dimension {}", what, d));
    if (d > 0 && n > kMaxElements / d) fail(what + ": tensor is too large");
    n *= d;
    shape.push_back(d);
  }
  const auto esize = static_cast<size_t>(ir::elem_size(*et));
  const auto count = static_cast<size_t>(n);
  if (t.has_raw_data()) {
    const std::string_view bytes = raw ? *raw : std::string_view(t.raw_data());
    const uint64_t have = bytes.size();
    if (have != count * esize)
      fail(fmt::format("{}: raw_data holds {} bytes, but {} {} elements need {}", what, have, n, ir::elem_name(*et),
                       count * esize));
    ir::HostTensor out(*et, std::move(shape));
    if (!values) return out;  // zeros: the values were not asked for
    if (count) std::memcpy(out.data.data(), bytes.data(), count * esize);
    if (*et == ir::ElemType::boolean)
      for (auto& b : out.data) b = b != 0;  // the IR keeps bools as 0/1
    return out;
  }

  // Typed fields: which one holds the data depends on the element type
  // (see onnx.proto): small ints, bool and 16-bit floats (as bits) use int32_data.
  using E = ir::ElemType;
  int have = 0;
  const char* field = "";
  switch (*et) {
    case E::f32: have = t.float_data_size(), field = "float_data"; break;
    case E::f64: have = t.double_data_size(), field = "double_data"; break;
    case E::i64: have = t.int64_data_size(), field = "int64_data"; break;
    case E::u32:
    case E::u64: have = t.uint64_data_size(), field = "uint64_data"; break;
    default: have = t.int32_data_size(), field = "int32_data"; break;
  }
  if (static_cast<size_t>(have) != count)
    fail(fmt::format("{}: {} holds {} values, but the shape needs {}", what, field, have, n));
  ir::HostTensor out(*et, std::move(shape));
  switch (*et) {
    case E::f32: copy_typed<float>(t.float_data(), out); break;
    case E::f64: copy_typed<double>(t.double_data(), out); break;
    case E::f16:
    case E::bf16:
    case E::u16: copy_typed<uint16_t>(t.int32_data(), out); break;
    case E::i16: copy_typed<int16_t>(t.int32_data(), out); break;
    case E::i8: copy_typed<int8_t>(t.int32_data(), out); break;
    case E::u8: copy_typed<uint8_t>(t.int32_data(), out); break;
    case E::boolean:
      for (int i = 0; i < have; ++i) out.data[static_cast<size_t>(i)] = t.int32_data(i) != 0;
      break;
    case E::i32: copy_typed<int32_t>(t.int32_data(), out); break;
    case E::u32: copy_typed<uint32_t>(t.uint64_data(), out); break;
    case E::i64: copy_typed<int64_t>(t.int64_data(), out); break;
    case E::u64: copy_typed<uint64_t>(t.uint64_data(), out); break;
    case E::f8e4m3:
    case E::f8e5m2: break;  // not produced by elem_from_onnx (onnx 1.12 has no float8)
  }
  return out;
}

namespace {

ir::Graph import_view(std::string_view bytes, const std::string& source, const ImportOptions& opt) {
  if (bytes.empty()) fail(source + ": not a valid ONNX model (empty file)");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    fail(fmt::format("{}: {} bytes: protobuf cannot parse models over 2 GiB (external data is unsupported)", source,
                     bytes.size()));
  // Large initializers' raw bytes are left out of the protobuf parse and read
  // straight from `bytes` (or not at all, without weight values): parsing
  // copied them into strings, an extra pass over every weight.
  std::map<int, std::string_view> skipped;
  std::optional<std::string> stripped = strip_weights(bytes, opt.skip_from, skipped);
  if (!stripped || skipped.empty()) stripped.reset(), skipped.clear();
  const std::string_view parse = stripped ? std::string_view(*stripped) : bytes;
  onnx::ModelProto m;
  if (!m.ParseFromArray(parse.data(), static_cast<int>(parse.size())))
    fail(source + ": not a valid ONNX model (protobuf parse failed)");
  return import_model(m, source, opt, skipped);
}

}  // namespace

ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& source, const ImportOptions& opt) {
  return import_view(bytes, source, opt);
}

ir::Graph import_onnx(const std::string& path, const ImportOptions& opt) {
  const FileView f(path, opt.weight_values);
  return import_view(f.bytes(), path, opt);
}

ir::HostTensor read_tensor_pb(const std::string& path, std::string* name) {
  const FileView f(path);
  const std::string_view bytes = f.bytes();
  TensorProto t;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) || !t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(path + ": not a valid TensorProto (protobuf parse failed)");
  if (name) *name = t.name();
  return tensor_from_proto(t, t.name().empty() ? path : fmt::format("{}: tensor '{}'", path, t.name()));
}

}  // namespace seedchip::frontends
