// seedchip — `seedchip validate`: published measurements read as jobs and
// predicted (docs/llm.md "Validation").
#include "seedchip/llm/validate.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "builtin_calibration.h"
#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/sim/timing.h"

namespace seedchip::llm {

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Splits one CSV line (double-quoted fields may hold commas).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (ch == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
      else quoted = !quoted;
    } else if (ch == ',' && !quoted) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(trim(cur));
  return out;
}

std::optional<int64_t> find_int(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(pattern))) return std::stoll(m[1].str());
  return std::nullopt;
}

// Built-in model for a workload's model name, or "" when there is none.
std::string model_of(const std::string& w, std::string& why) {
  std::smatch m;
  if (w.find("gpt-j") != std::string::npos || w.find("gptj") != std::string::npos) {
    // the family is (gpt-j-6b, timing); the benchmark's lengths and search are what is missing
    why = "MLPerf GPT-J decodes with beam search (4 beams), which serve does not model, over CNN-DailyMail "
          "inputs whose length distribution is not among the published figures seedchip carries";
    return "";
  }
  if (w.find("mixtral") != std::string::npos) return "mixtral-8x7b";
  if (w.find("mistral") != std::string::npos) return "mistral-7b";
  if (w.find("qwen") != std::string::npos) return "qwen2-72b";
  if (std::regex_search(w, m, std::regex(R"(llama[- ]?(2|3\.1|3)?[- ]?(\d+)b)"))) {
    const std::string ver = m[1].str(), size = m[2].str();
    std::string name;
    if (ver == "3.1") name = "llama-3.1-" + size + "b";
    else if (ver == "3") name = "llama-3-" + size + "b";
    else name = "llama-2-" + size + "b";  // "Llama-7B/70B" in TensorRT-LLM's tables: the Llama 2 architecture
    const auto names = builtin_models();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      why = fmt::format("no built-in model for '{}'", m[0].str());
      return "";
    }
    return name;
  }
  if (w.find("gpt-2") != std::string::npos || w.find("gpt2") != std::string::npos) return "gpt2";
  why = "no built-in model named in the workload";
  return "";
}

}  // namespace

const char* builtin_calibration_csv() { return detail::kBuiltinCalibration; }

std::vector<ValidationRow> parse_calibration(const std::string& text, const std::string& source) {
  std::vector<ValidationRow> rows;
  std::stringstream ss(text);
  std::string line;
  int lineno = 0;
  std::vector<std::string> header;
  while (std::getline(ss, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    auto f = split_csv(line);
    if (header.empty()) {
      header = f;
      const std::vector<std::string> want = {"id", "hardware", "software", "workload", "metric", "value", "unit", "source"};
      if (header != want)
        throw std::runtime_error(fmt::format("{}:{}: expected the header '{}'", source, lineno,
                                             "id,hardware,software,workload,metric,value,unit,source"));
      continue;
    }
    if (f.size() < 7)
      throw std::runtime_error(fmt::format("{}:{}: expected 8 fields, got {}", source, lineno, f.size()));
    f.resize(8);
    ValidationRow r;
    r.id = f[0], r.hardware = f[1], r.software = f[2], r.workload = f[3], r.metric = f[4], r.unit = f[6], r.source = f[7];
    size_t used = 0;
    try {
      r.measured = std::stod(f[5], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != f[5].size() || !(r.measured > 0))
      throw std::runtime_error(fmt::format("{}:{}: field 'value' is '{}', not a positive number", source, lineno, f[5]));
    rows.push_back(std::move(r));
  }
  if (header.empty()) throw std::runtime_error(fmt::format("{}: empty file", source));
  return rows;
}

void interpret(ValidationRow& r) {
  const std::string hw = lower(r.hardware), sw = lower(r.software), w = lower(r.workload), metric = lower(r.metric),
                    unit = lower(r.unit);
  auto refuse = [&](std::string why) {
    r.expressible = false;
    r.why_not = std::move(why);
  };
  // hardware: "8x H200 SXM 700 W", "1x A100 SXM"
  const int64_t count = find_int(hw, R"(^\s*(\d+)\s*x)").value_or(1);
  if (hw.find("h200") != std::string::npos) r.chip = "nvidia-h200-sxm";
  else if (hw.find("h100") != std::string::npos) r.chip = "nvidia-h100-sxm";
  else if (hw.find("a100") != std::string::npos) r.chip = "nvidia-a100-sxm";
  else if (hw.find("tpu v1") != std::string::npos || hw.find("tpu-v1") != std::string::npos) r.chip = "tpu-v1";
  else if (hw.find("seedchip") != std::string::npos) r.chip = "seedchip-v1";
  else return refuse(fmt::format("no chip description for '{}'", r.hardware));
  // precision from the software stack ("TensorRT-LLM v0.5 fp8") or the workload ("bf16 GEMM")
  const std::string both = sw + " " + w;
  r.options.precision = both.find("fp8") != std::string::npos    ? "fp8"
                        : both.find("int8") != std::string::npos ? "int8"
                                                                  : "bf16";  // fp16 and bf16 run at the same rate
  if (w.find("server") != std::string::npos || w.find("offline") != std::string::npos) {
    std::string why;
    r.model = model_of(w, why);
    if (r.model.empty()) return refuse(why);
    if (r.model != "llama-2-70b" && r.model != "llama-3.1-405b" && r.model != "mixtral-8x7b")
      return refuse(fmt::format("no built-in MLPerf dataset for {}", r.model));
    r.kind = ValidationRow::Kind::serving;
    r.scenario = w.find("server") != std::string::npos ? "server" : "offline";
    r.options.chips = count;
    // NVIDIA's MLPerf Inference submissions on Hopper run TensorRT-LLM in FP8
    if (sw.find("mlperf") != std::string::npos && both.find("fp16") == std::string::npos &&
        arch::find_chip(r.chip).matrix_supports(DType::fp8e4m3))
      r.options.precision = "fp8";
    if (sw.find("tensorrt") != std::string::npos) r.options.kv_page = 64;
    // the server row's limits, as the workload states them ("TTFT<=2 s; TPOT<=200 ms")
    std::smatch m;
    if (std::regex_search(w, m, std::regex(R"(ttft\s*<=\s*([\d.]+)\s*(ms|s))")))
      r.ttft_slo_s = std::stod(m[1].str()) * (m[2].str() == "ms" ? 1e-3 : 1.0);
    if (std::regex_search(w, m, std::regex(R"(tpot\s*<=\s*([\d.]+)\s*(ms|s))")))
      r.tpot_slo_s = std::stod(m[1].str()) * (m[2].str() == "ms" ? 1e-3 : 1.0);
    r.per_chip = metric.find("per gpu") != std::string::npos || unit.find("/gpu") != std::string::npos;
    if (unit.find("tok/s") == std::string::npos)
      return refuse(fmt::format("unit '{}': a serving row is predicted in output tok/s", r.unit));
    r.expressible = true;
    return;  // the serving library fills the command
  }
  if (w.find("gemm") != std::string::npos) {
    if (unit.find("flop/s") == std::string::npos) return refuse("a GEMM row must be in TFLOP/s");
    r.kind = ValidationRow::Kind::gemm_flops;
    r.gemm_size = 8192;
    r.options.chips = 1;
    r.expressible = true;
    r.command = fmt::format("seedchip bench gemm --chip {} --sizes 8192 ({})", r.chip, r.options.precision);
    return;
  }
  std::string why;
  r.model = model_of(w, why);
  if (r.model.empty()) return refuse(why);
  const auto tp = find_int(w, R"(tp\s*(\d+))");
  if (tp && *tp != count) return refuse(fmt::format("TP{} on {} devices: pipeline or data parallelism is not modelled", *tp, count));
  r.options.chips = count;
  r.options.batch = find_int(w, R"(batch\s*(\d+))").value_or(1);
  const auto prompt = find_int(w, R"((?:prompt|input|in)\s*(\d+))");
  const auto out = find_int(w, R"((?:output|out|gen)\s*(\d+))");
  if (!prompt) return refuse("the workload gives no prompt length");
  r.options.prompt = *prompt;
  if (metric.find("first-token") != std::string::npos || metric.find("first token") != std::string::npos ||
      metric.find("ttft") != std::string::npos) {
    r.kind = ValidationRow::Kind::ttft;
    r.options.generate = out.value_or(1);
  } else if (metric.find("per output token") != std::string::npos || metric.find("tpot") != std::string::npos) {
    r.kind = ValidationRow::Kind::tpot;
    r.options.generate = out.value_or(128);
  } else if (metric.find("throughput") != std::string::npos) {
    if (!out) return refuse("a throughput row needs an output length");
    r.options.generate = *out;
    r.kind = unit.find("/gpu") != std::string::npos || metric.find("per gpu") != std::string::npos
                 ? ValidationRow::Kind::tokens_per_s_per_chip
                 : ValidationRow::Kind::tokens_per_s;
  } else {
    return refuse(fmt::format("metric '{}' is not one seedchip predicts", r.metric));
  }
  const bool latency = r.kind == ValidationRow::Kind::ttft || r.kind == ValidationRow::Kind::tpot;
  if (latency && unit != "ms" && unit != "s") return refuse(fmt::format("unit '{}': expected ms or s", r.unit));
  if (!latency && unit.find("tok/s") == std::string::npos) return refuse(fmt::format("unit '{}': expected tok/s", r.unit));
  // the measured stack's KV-cache block: TensorRT-LLM's paged cache defaults to 64 tokens per block
  if (sw.find("tensorrt") != std::string::npos) r.options.kv_page = 64;
  r.expressible = true;
  r.command = fmt::format(
      "seedchip llm --model {} --chip {} --chips {} --precision {} --batch {} --prompt-len {} --gen-len {} --kv-page {}",
      r.model, r.chip, r.options.chips, r.options.precision, r.options.batch, r.options.prompt, r.options.generate,
      r.options.kv_page);
}

void predict(ValidationRow& r) {
  if (!r.expressible) throw std::logic_error("predict: row " + r.id + " is not expressible");
  if (r.kind == ValidationRow::Kind::serving)
    throw std::logic_error("predict: row " + r.id + " is a serving row (serve::predict_serving_row)");
  auto chip = arch::find_chip(r.chip);
  if (r.kernel_launch_ns >= 0) chip.timing.kernel_launch_ns = r.kernel_launch_ns;
  if (r.kind == ValidationRow::Kind::gemm_flops) {
    const int64_t n = r.gemm_size;
    const auto pol = precision_policy(r.options.precision);
    const std::string t(ir::elem_name(pol.gemm_inputs));
    const auto g = ir::parse(fmt::format(R"(graph "gemm" {{
  input %a : {1}[{0},{0}]
  input %b : {1}[{0},{0}]
  %c : bf16[{0},{0}] = MatMul(%a, %b) name="gemm" opset=13
  output %c
}})",
                                         n, t),
                             "gemm");
    compiler::CompileOptions o;
    o.uncalibrated_ok = true;
    o.precision = pol.compile;
    const auto m = compiler::compile(g, chip, o);
    const auto res = sim::run_timing(chip, m.program);
    r.predicted = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / res.seconds / 1e12;
  } else {
    const auto res = run_llm(find_model(r.model), chip, r.options);
    const double scale = lower(r.unit) == "ms" ? 1e3 : 1.0;
    // throughput as benchmarks report it: all output tokens over the whole run, prefill included
    const double run_s = res.ttft_s + static_cast<double>(r.options.generate) * res.tpot_s;
    const double tokens = static_cast<double>(r.options.batch * r.options.generate) / run_s;
    switch (r.kind) {
      case ValidationRow::Kind::ttft: r.predicted = res.ttft_s * scale; break;
      case ValidationRow::Kind::tpot: r.predicted = res.tpot_s * scale; break;
      case ValidationRow::Kind::tokens_per_s: r.predicted = tokens; break;
      case ValidationRow::Kind::tokens_per_s_per_chip: r.predicted = tokens / static_cast<double>(r.options.chips); break;
      case ValidationRow::Kind::gemm_flops:
      case ValidationRow::Kind::serving: break;
    }
  }
  r.error = (r.predicted - r.measured) / r.measured;
}

bool fits_kernel_launch(const ValidationRow& r) {
  return r.expressible && r.kind != ValidationRow::Kind::serving && r.kind != ValidationRow::Kind::gemm_flops &&
         r.chip.rfind("nvidia-", 0) == 0;
}

CalibratedParameter predict_with_leave_one_out(std::vector<ValidationRow>& rows) {
  CalibratedParameter p;
  p.name = "timing.kernel_launch_ns";
  p.applies_to = "nvidia-a100-sxm, nvidia-h100-sxm, nvidia-h200-sxm (one value for all three)";
  p.candidates = {2000, 4000, 6000, 8000};  // the grid the chip files' value was chosen from
  p.chip_files = arch::find_chip("nvidia-h100-sxm").timing.kernel_launch_ns;
  std::vector<size_t> fit;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    if (!r.expressible || r.kind == ValidationRow::Kind::serving) continue;
    if (fits_kernel_launch(r)) {
      fit.push_back(i);
      r.fitted_on = true;
      p.fitted_on.push_back(r.id);
    } else {
      predict(r);
      r.loo_predicted = r.predicted, r.loo_error = r.error;
    }
  }
  if (fit.empty()) return p;
  // err[c][k]: row fit[k] predicted with candidate c
  std::vector<std::vector<double>> err(p.candidates.size()), pred(p.candidates.size());
  for (size_t c = 0; c < p.candidates.size(); ++c)
    for (size_t k : fit) {
      ValidationRow r = rows[k];
      r.kernel_launch_ns = p.candidates[c];
      predict(r);
      err[c].push_back(r.error);
      pred[c].push_back(r.predicted);
    }
  // the candidate with the lowest mean |error| over the fitting rows, leaving out row `skip` (none: -1)
  auto best = [&](long skip) {
    size_t b = 0;
    double bv = 1e300;
    for (size_t c = 0; c < p.candidates.size(); ++c) {
      double s = 0;
      for (size_t k = 0; k < fit.size(); ++k)
        if (static_cast<long>(k) != skip) s += std::abs(err[c][k]);
      if (s < bv - 1e-12) bv = s, b = c;
    }
    return b;
  };
  const size_t all = best(-1);
  p.chosen = p.candidates[all];
  for (size_t k = 0; k < fit.size(); ++k) {
    auto& r = rows[fit[k]];
    r.predicted = pred[all][k], r.error = err[all][k];
    const size_t c = best(static_cast<long>(k));
    r.loo_predicted = pred[c][k], r.loo_error = err[c][k];
  }
  return p;
}

}  // namespace seedchip::llm
