// seedchip — serving outputs: per-request CSV and a Chrome/Perfetto trace.
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "seedchip/serve/serve.h"

namespace seedchip::serve {

void write_requests_csv(const ServeResult& r, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write", path));
  f << "id,replica,arrival_s,scheduled_s,first_token_s,finish_s,prompt_tokens,output_tokens,preemptions,ttft_s,tpot_s\n";
  for (const auto& q : r.requests)
    f << fmt::format("{},{},{:.9g},{:.9g},{:.9g},{:.9g},{},{},{},{:.9g},{:.9g}\n", q.id, q.replica, q.arrival_s,
                     q.scheduled_s, q.first_token_s, q.finish_s, q.prompt, q.output, q.preemptions, q.ttft(), q.tpot());
  if (!f) throw std::runtime_error(fmt::format("{}: write failed", path));
}

void write_trace(const ServeResult& r, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write", path));
  // Chrome trace events, microseconds: pid 1 = engines (a thread per
  // engine, each step a slice), pid 2 = requests (async spans)
  f << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  f << R"({"ph":"M","pid":1,"name":"process_name","args":{"name":"engines"}},)" << "\n";
  f << R"({"ph":"M","pid":2,"name":"process_name","args":{"name":"requests"}})";
  for (int64_t e = 0; e < r.engines; ++e)
    f << fmt::format(",\n{{\"ph\":\"M\",\"pid\":1,\"tid\":{},\"name\":\"thread_name\",\"args\":{{\"name\":\"engine {}\"}}}}", e, e);
  for (const auto& s : r.steps)
    f << fmt::format(",\n{{\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{:.3f},\"dur\":{:.3f},\"name\":\"step {}d+{}p\","
                     "\"args\":{{\"decode_seqs\":{},\"prefill_seqs\":{},\"prefill_tokens\":{}}}}}",
                     s.engine, s.start_s * 1e6, s.seconds * 1e6, s.decode_seqs, s.prefill_seqs, s.decode_seqs,
                     s.prefill_seqs, s.prefill_tokens);
  for (const auto& q : r.requests) {
    f << fmt::format(",\n{{\"ph\":\"b\",\"cat\":\"request\",\"pid\":2,\"id\":{},\"ts\":{:.3f},\"name\":\"request {}\","
                     "\"args\":{{\"prompt\":{},\"output\":{},\"replica\":{},\"preemptions\":{}}}}}",
                     q.id, q.arrival_s * 1e6, q.id, q.prompt, q.output, q.replica, q.preemptions);
    f << fmt::format(",\n{{\"ph\":\"n\",\"cat\":\"request\",\"pid\":2,\"id\":{},\"ts\":{:.3f},\"name\":\"first token\"}}", q.id,
                     q.first_token_s * 1e6);
    f << fmt::format(",\n{{\"ph\":\"e\",\"cat\":\"request\",\"pid\":2,\"id\":{},\"ts\":{:.3f},\"name\":\"request {}\"}}", q.id,
                     q.finish_s * 1e6, q.id);
  }
  f << "\n]}\n";
  if (!f) throw std::runtime_error(fmt::format("{}: write failed", path));
}

}  // namespace seedchip::serve
