// seedchip — the Python API (`import seedchip`, docs/python.md): chips,
// LLM timing, serving, cost and TCO, sweeps and the flagship comparison,
// calling the same libraries as the command line. Long runs release the GIL;
// errors raise ValueError/RuntimeError with the command line's messages.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"
#include "seedchip/explore/analysis.h"
#include "seedchip/explore/plan.h"
#include "seedchip/explore/run.h"
#include "seedchip/explore/sweep.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/generate.h"
#include "seedchip/llm/safetensors.h"
#include "seedchip/llm/llm.h"
#include "seedchip/isa/program.h"
#include "seedchip/report/report.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/model.h"
#include "seedchip/serve/scenario.h"
#include "seedchip/sim/timing.h"

namespace py = pybind11;
using namespace seedchip;

namespace {

// nlohmann::json -> Python objects (dicts, lists, numbers, strings).
py::object to_py(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_py(it.value());
      return d;
    }
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(to_py(v));
      return l;
    }
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    default: return py::none();
  }
}

// A Python scalar as a chip YAML scalar.
std::string yaml_scalar(const py::handle& v) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::int_>(v)) return std::to_string(v.cast<int64_t>());
  if (py::isinstance<py::float_>(v)) return fmt::format("{:.17g}", v.cast<double>());
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  throw py::type_error(fmt::format("a chip key's value must be a number, bool or string, not {}", std::string(py::str(v.get_type()))));
}

// A chip with the YAML it was loaded from (so that it can be edited and re-validated).
struct PyChip {
  arch::Chip chip;
  std::string yaml;
};

PyChip load(const std::string& name_or_path) {
  const auto t = arch::find_chip_text(name_or_path);
  return {arch::load_chip_yaml(t.text, t.source), t.text};
}

template <typename T>
py::array_t<T> column(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// A serving run's per-request records as numpy columns (pandas.DataFrame accepts the dict).
py::dict request_columns(const serve::ServeResult& r) {
  std::vector<int64_t> id, prompt, output, preempt, replica;
  std::vector<double> arrival, scheduled, first, finish, ttft, tpot;
  for (const auto& q : r.requests) {
    id.push_back(q.id);
    prompt.push_back(q.prompt);
    output.push_back(q.output);
    preempt.push_back(q.preemptions);
    replica.push_back(q.replica);
    arrival.push_back(q.arrival_s);
    scheduled.push_back(q.scheduled_s);
    first.push_back(q.first_token_s);
    finish.push_back(q.finish_s);
    ttft.push_back(q.ttft());
    tpot.push_back(q.tpot());
  }
  py::dict d;
  d["id"] = column(id);
  d["prompt_tokens"] = column(prompt);
  d["output_tokens"] = column(output);
  d["preemptions"] = column(preempt);
  d["replica"] = column(replica);
  d["arrival_s"] = column(arrival);
  d["scheduled_s"] = column(scheduled);
  d["first_token_s"] = column(first);
  d["finish_s"] = column(finish);
  d["ttft_s"] = column(ttft);
  d["tpot_s"] = column(tpot);
  return d;
}

// numpy arrays <-> host tensors (numpy has no bfloat16 or fp8: those come back as float32)
ir::ElemType elem_of(const py::dtype& dt) {
  const char k = dt.kind();
  const auto n = dt.itemsize();
  if (k == 'f' && n == 4) return ir::ElemType::f32;
  if (k == 'f' && n == 8) return ir::ElemType::f64;
  if (k == 'f' && n == 2) return ir::ElemType::f16;
  if (k == 'i' && n == 1) return ir::ElemType::i8;
  if (k == 'i' && n == 2) return ir::ElemType::i16;
  if (k == 'i' && n == 4) return ir::ElemType::i32;
  if (k == 'i' && n == 8) return ir::ElemType::i64;
  if (k == 'u' && n == 1) return ir::ElemType::u8;
  if (k == 'u' && n == 2) return ir::ElemType::u16;
  if (k == 'u' && n == 4) return ir::ElemType::u32;
  if (k == 'u' && n == 8) return ir::ElemType::u64;
  if (k == 'b') return ir::ElemType::boolean;
  throw py::type_error(fmt::format("numpy dtype {} has no seedchip element type", py::repr(dt).cast<std::string>()));
}

ir::HostTensor to_host(const py::array& a0) {
  const py::array a = py::array::ensure(a0, py::array::c_style);
  ir::HostTensor t;
  t.type = elem_of(a.dtype());
  for (py::ssize_t i = 0; i < a.ndim(); ++i) t.shape.push_back(a.shape(i));
  const auto* p = static_cast<const uint8_t*>(a.data());
  t.data.assign(p, p + a.nbytes());
  return t;
}

py::array to_numpy(const ir::HostTensor& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  auto raw = [&](const char* fmtc) {
    py::array a(py::dtype(fmtc), shape);
    std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
    return a;
  };
  switch (t.type) {
    case ir::ElemType::f32: return raw("float32");
    case ir::ElemType::f64: return raw("float64");
    case ir::ElemType::f16: return raw("float16");
    case ir::ElemType::i8: return raw("int8");
    case ir::ElemType::i16: return raw("int16");
    case ir::ElemType::i32: return raw("int32");
    case ir::ElemType::i64: return raw("int64");
    case ir::ElemType::u8: return raw("uint8");
    case ir::ElemType::u16: return raw("uint16");
    case ir::ElemType::u32: return raw("uint32");
    case ir::ElemType::u64: return raw("uint64");
    case ir::ElemType::boolean: return raw("bool");
    default: {  // bf16, fp8: widened to float32
      py::array_t<float> a(shape);
      for (int64_t i = 0; i < t.elements(); ++i) a.mutable_data()[i] = static_cast<float>(t.get(i));
      return a;
    }
  }
}

// A compiled model and the chip it was compiled for.
struct PyModel {
  compiler::CompiledModel model;
  arch::Chip chip;
  std::string source;
};

py::list bindings_py(const std::vector<compiler::IoBinding>& b) {
  py::list l;
  for (const auto& x : b) l.append(py::make_tuple(x.name, std::string(ir::elem_name(x.type)), x.shape));
  return l;
}

PyModel compile_py(const py::object& model, const py::object& chip, const std::string& precision, const std::map<std::string, int64_t>& dims,
                   const py::dict& calibration, bool timing_only) {
  const PyChip c = py::isinstance<PyChip>(chip) ? chip.cast<PyChip>() : load(chip.cast<std::string>());
  runtime::LoadOptions o;
  o.precision = precision;
  o.dims = dims;
  o.timing_only = timing_only;
  std::map<std::string, ir::HostTensor> cal;
  for (auto [k, v] : calibration) cal.emplace(k.cast<std::string>(), to_host(v.cast<py::array>()));
  PyModel m{{}, c.chip, ""};
  if (py::isinstance<py::bytes>(model)) {
    const std::string bytes = model.cast<std::string>();
    m.source = "<bytes>";
    py::gil_scoped_release release;
    m.model = runtime::load_onnx_bytes(bytes, m.source, c.chip, o, cal);
  } else {
    m.source = py::str(model).cast<std::string>();
    py::gil_scoped_release release;
    m.model = runtime::load_model(m.source, c.chip, o, cal);
  }
  return m;
}

econ::Assumptions assumptions_for(const arch::Chip& c, const std::string& node, const std::map<std::string, double>& set) {
  econ::Assumptions a = econ::assumptions(node.empty() ? c.process.node : node, node.empty() ? c.source + ": process.node" : "node");
  for (const auto& [k, v] : set) a.set(k, v, "Python");
  return a;
}

}  // namespace

PYBIND11_MODULE(seedchip, m) {
  m.doc() = R"(seedchip: the SeedChip AI inference accelerator in software.

Chips (seedchip.chip, seedchip.chips), LLM timing (seedchip.llm), serving at
SLOs (seedchip.serve), chip economics (seedchip.cost, seedchip.tco),
design-space sweeps (seedchip.explore) and the flagship comparison
(seedchip.analyze). The same libraries as the `seedchip` command: the same
inputs give the same figures. Bad input raises ValueError or RuntimeError with
the command line's message. Long runs release the GIL, so threads run them in
parallel.)";

  // errors from the libraries carry the command line's messages
  auto chiperror = py::register_exception<arch::ChipError>(m, "ChipError", PyExc_ValueError);
  chiperror.attr("__doc__") = "An invalid chip description or edit (a ValueError naming the key and the reason).";
  auto econerror = py::register_exception<econ::EconError>(m, "EconError", PyExc_ValueError);
  econerror.attr("__doc__") = "Invalid cost or TCO input (a ValueError naming the field).";
  auto sweeperror = py::register_exception<explore::SweepError>(m, "SweepError", PyExc_ValueError);
  sweeperror.attr("__doc__") = "An invalid sweep file (a ValueError naming the file and key).";
  auto planerror = py::register_exception<explore::PlanError>(m, "PlanError", PyExc_ValueError);
  planerror.attr("__doc__") = "An invalid or infeasible fleet plan (a ValueError naming the constraints).";

  py::class_<PyChip>(m, "Chip", "A validated chip description and its derived figures.")
      .def_property_readonly("name", [](const PyChip& c) { return c.chip.name; }, "The chip's name (its YAML `name`).")
      .def_property_readonly("description", [](const PyChip& c) { return c.chip.description; }, "One line describing the chip.")
      .def_property_readonly("source", [](const PyChip& c) { return c.chip.source; }, "Where the description came from (builtin:NAME, a file path or python).")
      .def_property_readonly("cores", [](const PyChip& c) { return c.chip.cores; }, "Cores on the chip.")
      .def_property_readonly("clock_hz", [](const PyChip& c) { return c.chip.clock_hz; }, "Core clock in Hz.")
      .def_property_readonly("tdp_w", [](const PyChip& c) { return c.chip.tdp_w; }, "Board power (TDP) in W.")
      .def_property_readonly("hbm_bytes_per_s", [](const PyChip& c) { return c.chip.memory.bandwidth_bytes_per_s; }, "HBM bandwidth in bytes/s.")
      .def_property_readonly("hbm_capacity_bytes", [](const PyChip& c) { return c.chip.memory.capacity_bytes; }, "HBM capacity in bytes.")
      .def_property_readonly("hbm_stacks", [](const PyChip& c) { return c.chip.memory.devices; }, "HBM stacks (memory.devices).")
      .def_property_readonly("sram_bytes_total", [](const PyChip& c) { return c.chip.sram_bytes_total(); }, "On-chip SRAM over all cores, in bytes.")
      .def_property_readonly("yaml", [](const PyChip& c) { return c.yaml; }, "The chip description (YAML text).")
      .def(
          "peak_ops_per_s",
          [](const PyChip& c, const std::string& dtype) {
            const auto t = parse_dtype(dtype);
            if (!t) throw py::value_error(fmt::format("unknown dtype '{}'", dtype));
            return c.chip.peak_ops_per_s(*t);
          },
          py::arg("dtype") = "fp8e4m3", "Dense matrix peak for a type (0 when unsupported): int8, fp8e4m3, bf16, fp16, fp32 ...")
      .def(
          "summary", [](const PyChip& c) { return to_py(arch::chip_summary_json(c.chip)); },
          "Every derived figure as a dict (the same keys as `seedchip chip show --json`).")
      .def(
          "with_changes",
          [](const PyChip& c, const py::dict& changes) {
            std::vector<std::pair<std::string, std::string>> kv;
            for (auto [k, v] : changes) kv.emplace_back(k.cast<std::string>(), yaml_scalar(v));
            const std::string text = explore::set_keys(c.yaml, kv);
            return PyChip{arch::load_chip_yaml(text, c.chip.source + " (edited)"), text};
          },
          py::arg("changes"),
          "A new chip with dotted keys changed, e.g. {'cores': 16, 'memory.devices': 5}, validated as strictly as a chip file "
          "(ChipError naming the key otherwise).")
      .def("__repr__", [](const PyChip& c) { return fmt::format("<seedchip.Chip {} ({})>", c.chip.name, c.chip.source); });

  py::class_<PyModel>(m, "Model", "A model compiled for a chip (from ONNX, IR text or a .scp program).")
      .def_property_readonly("chip", [](const PyModel& x) { return x.chip.name; }, "Name of the chip the model was compiled for.")
      .def_property_readonly("source", [](const PyModel& x) { return x.source; }, "What the model was compiled from (path, bytes or IR).")
      .def_property_readonly("inputs", [](const PyModel& x) { return bindings_py(x.model.inputs); }, "(name, element type, shape) per input.")
      .def_property_readonly("outputs", [](const PyModel& x) { return bindings_py(x.model.outputs); }, "(name, element type, shape) per output.")
      .def_property_readonly(
          "instructions",
          [](const PyModel& x) {
            uint64_t n = 0;
            for (const auto& c : x.model.program.cores) n += c.code.size();
            return n;
          },
          "Instructions in the program over all cores.")
      .def_property_readonly(
          "placement",
          [](const PyModel& x) {
            py::list l;
            for (const auto& p : x.model.placement) l.append(py::make_tuple(p.node, p.op, p.where, p.instructions));
            return l;
          },
          "(node, op, where, instructions) per op: where it ran (chip, alias, folded, host).")
      .def(
          "save", [](const PyModel& x, const std::string& path) { isa::write_program_file(x.model.program, path); }, py::arg("path"),
          "Writes the program (.scp), as `seedchip compile -o`.")
      .def("__repr__", [](const PyModel& x) { return fmt::format("<seedchip.Model {} on {}>", x.source, x.chip.name); });

  m.def("compile", &compile_py, py::arg("model"), py::arg("chip") = "seedchip-v1", py::arg("precision") = "fp32",
        py::arg("dims") = std::map<std::string, int64_t>{}, py::arg("calibration") = py::dict(), py::arg("timing_only") = false,
        "Compiles an ONNX model (a path or the file's bytes), IR text (.ir) or loads a .scp program, as `seedchip compile`. "
        "int8/fp8: activation scales are calibrated on `calibration` inputs ({name: ndarray}; random where absent).");

  m.def(
      "run",
      [](const py::object& model, const py::dict& inputs, const py::object& chip, const std::string& precision, const std::string& mode,
         const std::map<std::string, int64_t>& dims) {
        if (mode != "functional" && mode != "timing" && mode != "both")
          throw py::value_error(fmt::format("mode '{}': expected functional, timing or both", mode));
        std::map<std::string, ir::HostTensor> given;
        for (auto [k, v] : inputs) given.emplace(k.cast<std::string>(), to_host(py::array::ensure(v)));
        PyModel pm = py::isinstance<PyModel>(model) ? model.cast<PyModel>() : compile_py(model, chip, precision, dims, inputs, mode == "timing");
        py::dict out;
        sim::RunStats st;
        std::vector<ir::HostTensor> outs;
        nlohmann::json metrics;
        bool same = true;
        {
          py::gil_scoped_release release;
          if (mode != "timing") outs = runtime::run_model(pm.model, pm.chip, runtime::prepare_inputs(pm.model.inputs, given, "inputs"), &st);
          if (mode != "functional") {
            const auto labels = pm.model.instruction_labels();
            const auto r = sim::run_timing(pm.chip, pm.model.program, {});
            metrics = report::metrics_json(pm.chip, r, labels);
            if (mode == "both") same = runtime::stream_mismatch(st, r).empty();
          }
        }
        py::dict o;
        for (size_t i = 0; i < outs.size(); ++i) o[py::str(pm.model.outputs[i].name)] = to_numpy(outs[i]);
        out["outputs"] = o;
        if (mode != "timing") {
          py::dict s;
          s["instructions"] = st.total();
          s["macs"] = st.macs;
          s["bytes_loaded"] = st.bytes_loaded;
          s["bytes_stored"] = st.bytes_stored;
          out["stats"] = s;
        }
        if (mode != "functional") out["metrics"] = to_py(metrics);
        if (mode == "both") out["same_instruction_streams"] = same;
        return out;
      },
      py::arg("model"), py::arg("inputs") = py::dict(), py::arg("chip") = "seedchip-v1", py::arg("precision") = "fp32",
      py::arg("mode") = "functional", py::arg("dims") = std::map<std::string, int64_t>{},
      "Runs a model (a seedchip.Model, or anything seedchip.compile takes) with numpy inputs by name (random where absent), "
      "as `seedchip run`: functional -> {'outputs': {name: ndarray}, 'stats': ...}; timing -> {'metrics': ...} (the "
      "--metrics JSON); both -> both, with 'same_instruction_streams'.");

  m.def("chip", &load, py::arg("name_or_path"), "Loads a built-in chip by name or a chip YAML file.");
  m.def(
      "chip_from_yaml", [](const std::string& text, const std::string& source) { return PyChip{arch::load_chip_yaml(text, source), text}; },
      py::arg("text"), py::arg("source") = "python", "Parses and validates chip YAML text.");
  m.def("chips", &arch::builtin_chip_names, "Names of the built-in chips.");
  m.def("models", &llm::builtin_models, "Names of the built-in LLM configs.");

  m.def(
      "llm",
      [](const std::string& model, const py::object& chip, int64_t chips, int64_t batch, int64_t prompt_len, int64_t gen_len,
         const std::string& precision) {
        const PyChip c = py::isinstance<PyChip>(chip) ? chip.cast<PyChip>() : load(chip.cast<std::string>());
        llm::LlmOptions o;
        o.chips = chips;
        o.batch = batch;
        o.prompt = prompt_len;
        o.generate = gen_len;
        o.precision = precision;
        const auto cfg = llm::find_model(model);
        nlohmann::json j;
        {
          py::gil_scoped_release release;
          j = llm::run_llm(cfg, c.chip, o).json();
        }
        return to_py(j);
      },
      py::arg("model"), py::arg("chip") = "seedchip-v1", py::arg("chips") = 1, py::arg("batch") = 1, py::arg("prompt_len") = 128,
      py::arg("gen_len") = 128, py::arg("precision") = "bf16",
      "Times an LLM on `chips` tensor-parallel chips (as `seedchip llm --json`): TTFT, TPOT, tokens/s, utilisation, energy.");

  m.def(
      "generate",
      [](const std::string& model, const std::string& weights, const py::object& prompt_ids, int64_t gen_len, const py::object& chip,
         const std::string& precision) {
        const PyChip c = py::isinstance<PyChip>(chip) ? chip.cast<PyChip>() : load(chip.cast<std::string>());
        llm::GenerateOptions g;
        if (py::isinstance<py::str>(prompt_ids)) {
          g.prompt = llm::parse_token_ids(prompt_ids.cast<std::string>(), "prompt_ids");
        } else {
          for (const auto& v : prompt_ids) {
            const int64_t id = py::int_(py::reinterpret_borrow<py::object>(v)).cast<int64_t>();
            if (id < 0) throw py::value_error(fmt::format("prompt_ids: {} is not a non-negative integer token id", id));
            g.prompt.push_back(id);
          }
          if (g.prompt.empty()) throw py::value_error("prompt_ids: no token ids given");
        }
        g.generate = gen_len;
        g.precision = precision;
        const auto cfg = llm::find_model(model);
        nlohmann::json j;
        {
          py::gil_scoped_release release;
          const llm::Checkpoint ckpt(weights);
          j = llm::run_generation(cfg, ckpt, c.chip, g).json();
        }
        py::dict out = to_py(j).cast<py::dict>();
        for (const char* k : {"generated_ids", "prompt_ids", "fp32_generated_ids", "tied_steps"}) {
          if (!j.contains(k)) continue;
          const auto v = j[k].get<std::vector<int64_t>>();
          py::array_t<int64_t> a(static_cast<py::ssize_t>(v.size()));
          if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(int64_t));
          out[k] = a;
        }
        return out;
      },
      py::arg("model"), py::arg("weights"), py::arg("prompt_ids"), py::arg("gen_len") = 32, py::arg("chip") = "seedchip-v1",
      py::arg("precision") = "fp32",
      "Greedy generation on the bit-exact functional simulator, as `seedchip llm --mode functional --json`: `model` is a "
      "built-in name or a config.json, `weights` a .safetensors file (or an index.json of shards), `prompt_ids` a sequence "
      "of token ids (or '1,2,3'). Returns generated_ids (int64 array), functional_steps, functional_instructions, "
      "tied_steps and, for fp8/int8, fp32_generated_ids and top1_agreement.");

  m.def(
      "serve",
      [](const std::string& model, const py::object& chip, int64_t chips, int64_t tp, int64_t pp, const std::string& precision,
         const std::string& scenario, int64_t requests, const std::string& dataset, double rate, uint64_t seed, int64_t block_size,
         int64_t max_num_seqs, double ttft_slo, double tpot_slo, bool expert_parallel) {
        serve::ScenarioArgs a;
        a.model = model;
        if (py::isinstance<PyChip>(chip)) a.chip_object = chip.cast<PyChip>().chip;
        else a.chip = chip.cast<std::string>();
        a.chips = chips;
        a.opt.tp = tp;
        a.opt.pp = pp;
        a.opt.precision = precision;
        a.scenario = scenario;
        a.requests = requests;
        a.dataset = dataset;
        a.rate = rate;
        a.seed = seed;
        a.opt.block_size = block_size;
        a.opt.max_num_seqs = max_num_seqs;
        a.ttft_slo = ttft_slo;
        a.tpot_slo = tpot_slo;
        a.opt.expert_parallel = expert_parallel;
        serve::ScenarioRun run;
        {
          py::gil_scoped_release release;
          run = serve::run_scenario(a);
        }
        py::dict d = to_py(run.json).cast<py::dict>();
        d["slo_met"] = run.met;
        d["requests"] = request_columns(run.result);
        return d;
      },
      py::arg("model"), py::arg("chip") = "seedchip-v1", py::arg("chips") = 0, py::arg("tp") = 1, py::arg("pp") = 1,
      py::arg("precision") = "bf16", py::arg("scenario") = "offline", py::arg("requests") = 0, py::arg("dataset") = "",
      py::arg("rate") = -1.0, py::arg("seed") = 1, py::arg("block_size") = 16, py::arg("max_num_seqs") = 0, py::arg("ttft_slo") = -1.0,
      py::arg("tpot_slo") = -1.0, py::arg("expert_parallel") = false,
      "Serves a request stream (as `seedchip serve --json`). Returns the summary dict with 'requests': per-request numpy "
      "columns (pandas.DataFrame(result['requests']) makes a table).");

  m.def(
      "cost",
      [](const py::object& chip, int64_t units, const std::string& node, const std::map<std::string, double>& set,
         const std::string& yield_model) {
        const PyChip c = py::isinstance<PyChip>(chip) ? chip.cast<PyChip>() : load(chip.cast<std::string>());
        const auto a = assumptions_for(c.chip, node, set);
        return to_py(econ::cost_json(econ::chip_cost(c.chip, a, units, yield_model), a));
      },
      py::arg("chip"), py::arg("units") = 100000, py::arg("node") = "", py::arg("set") = std::map<std::string, double>{},
      py::arg("yield_model") = "negative-binomial",
      "Die area, yield, unit cost and TDP (as `seedchip chip cost --json`); `set` overrides assumptions by key.");

  m.def(
      "tco",
      [](const py::object& chip, double tokens_per_s, double power_w, int64_t units, const std::map<std::string, double>& set) {
        const PyChip c = py::isinstance<PyChip>(chip) ? chip.cast<PyChip>() : load(chip.cast<std::string>());
        const auto a = assumptions_for(c.chip, "", set);
        const auto cost = econ::chip_cost(c.chip, a, units);
        if (!(tokens_per_s > 0)) throw py::value_error("tco: tokens_per_s must be positive");
        if (power_w <= 0) power_w = a["avg_power_fraction"] * c.chip.tdp_w;
        const auto t = econ::tco(econ::owner_price(c.chip, cost, a), tokens_per_s, power_w, c.chip.tdp_w, a);
        py::dict d;
        d["price_usd"] = t.price_usd;
        d["capex_per_year_usd"] = t.capex_per_year_usd;
        d["facility_per_year_usd"] = t.facility_per_year_usd;
        d["energy_per_year_usd"] = t.energy_per_year_usd;
        d["per_chip_year_usd"] = t.per_chip_year_usd;
        d["usd_per_million_tokens"] = t.usd_per_million_tokens;
        d["tokens_per_joule"] = t.tokens_per_joule;
        d["tokens_per_s_per_usd"] = t.tokens_per_s_per_usd;
        return d;
      },
      py::arg("chip"), py::arg("tokens_per_s"), py::arg("power_w") = 0.0, py::arg("units") = 100000,
      py::arg("set") = std::map<std::string, double>{},
      "Total cost of ownership of one chip serving `tokens_per_s` output tokens/s at `power_w` (0: the average-draw share of TDP).");

  m.def(
      "explore",
      [](const std::string& sweep, int jobs, const std::string& db, int64_t max_points) {
        const auto s = explore::load_sweep(sweep);
        explore::RunOptions o;
        o.jobs = jobs;
        if (!db.empty()) o.db = db;
        o.max_points = max_points;
        explore::SweepOutcome out;
        {
          py::gil_scoped_release release;
          out = explore::run_sweep(s, o);
        }
        py::dict d;
        d["rows"] = to_py(out.rows_json);
        nlohmann::json p;
        for (const auto& [w, f] : out.pareto) p[w] = f;
        d["pareto"] = to_py(p);
        d["best"] = out.best_name;
        d["complete"] = out.complete;
        d["points"] = out.points;
        return d;
      },
      py::arg("sweep"), py::arg("jobs") = 1, py::arg("db") = "", py::arg("max_points") = -1,
      "Runs (or resumes, with `db`) a sweep file (as `seedchip explore --json`): one row dict per design x workload, the Pareto "
      "fronts and the best design.");

  m.def(
      "plan",
      [](const std::string& fleet, int64_t requests, bool scenarios) {
        explore::Fleet f = fleet.empty() ? explore::parse_fleet(explore::default_fleet_yaml(), "builtin:seed-2026") : explore::load_fleet(fleet);
        nlohmann::json j;
        {
          py::gil_scoped_release release;
          explore::fill_fleet(f, requests);
          const auto p = explore::solve(f);
          j = explore::plan_json(p, f);
          j["violations"] = explore::check_plan(p, f);
          if (scenarios) j["scenarios"] = explore::scenarios_json(explore::solve_scenarios(f), f);
        }
        return to_py(j);
      },
      py::arg("fleet") = "", py::arg("requests") = 1000, py::arg("scenarios") = true,
      "Solves a fleet file (as `seedchip plan --json --check`; empty: the built-in examples/fleet/seed-2026.yaml): units per "
      "quarter per hardware, costs, MW, HBM, binding constraints, 'violations' (recomputed, empty when consistent) and the "
      "scenarios. PlanError names the conflicting constraints of an infeasible plan.");

  m.def(
      "analyze",
      [](const std::string& chip, const std::string& baseline, const std::string& model, int64_t chips, int64_t requests,
         int64_t units) {
        explore::Workload w;
        w.model = model;
        w.chips = chips;
        w.requests = requests;
        w.block_size = 256;
        w.tp = {2, 4, 8};
        std::vector<explore::ChipResult> r;
        {
          py::gil_scoped_release release;
          r.push_back(explore::serve_and_cost(chip, w, units));
          r.push_back(explore::serve_and_cost(baseline, w, units));
        }
        return to_py(explore::headline_json(r, w, 1));
      },
      py::arg("chip") = "seedchip-v2", py::arg("baseline") = "nvidia-h200-sxm", py::arg("model") = "llama-2-70b", py::arg("chips") = 8,
      py::arg("requests") = 1500, py::arg("units") = 200000,
      "The flagship comparison (as `seedchip analyze --json` without the plan): both chips at the model's MLPerf server limits.");
}
