// seedchip — serving requests (docs/serving.md "Requests").
#include "seedchip/serve/requests.h"

#include "seedchip/numerics/input.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seedchip::serve {

namespace {

// Uniform in [0, 1) from 53 random bits (the same on every platform, unlike
// std::uniform_real_distribution).
double uniform(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

// Inverse of the standard normal CDF (Acklam's rational approximation,
// relative error below 1.2e-9).
double norm_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  const double lo = 0.02425;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -norm_quantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

constexpr double kZ99 = 2.3263478740408408;   // normal quantile at 0.99
constexpr double kZ001 = 3.090232306167813;   // |normal quantile at 0.001|
// p99 / median of the one published table (OpenOrca inputs: 791 / 152),
// used where a dataset's p99 is not published.
constexpr double kP99OverMedian = 791.0 / 152.0;
// median / mean of OpenOrca's GPT-4 reference outputs (190 / 218.9), used
// where a dataset's median is not published.
constexpr double kMedianOverMean = 190.0 / 218.9;

// Fills what is not published: median from the mean, p99 from the median.
LengthStats complete(LengthStats s) {
  if (s.median <= 0) s.median = std::round(s.mean * kMedianOverMean);
  if (s.p99 <= 0) s.p99 = std::min(s.max, std::round(s.median * kP99OverMedian));
  if (s.min <= 0) s.min = 1;
  return s;
}

}  // namespace

const std::vector<DatasetInfo>& builtin_datasets() {
  static const std::vector<DatasetInfo> d = {
      {"mlperf-llama2-70b", 24576, {0, 152, 222.3, 791, 1021}, {3, 0, 294.45, 0, 1024}, 0,
       "MLPerf Inference llama2-70b (OpenOrca): input mean 222.3, median 152, p99 791, max 1021 (openshift-psap "
       "performance-dashboard summaries/llama2-70b-99.csv); output mean 294.45, min 3, max_new_tokens 1024 "
       "(mlcommons inference_rules.adoc)"},
      {"mlperf-llama3.1-405b", 8313, {0, 10112, 9428.6, 0, 19988}, {0, 0, 684.7, 0, 20000}, 0,
       "MLPerf Inference llama3.1-405b: input mean 9428.6, median 10112, max 19988; output mean 684.7, "
       "max_new_tokens 20000 (mlcommons inference language/llama3.1-405b)"},
      {"mlperf-mixtral-8x7b", 15000, {0, 152, 222.3, 791, 1021}, {0, 0, 144.84, 0, 1024}, 2048,
       "MLPerf Inference mixtral-8x7b (OpenOrca, GSM8K, MBXP): input + output <= 2048, reference output mean 144.84 "
       "(mlcommons inference language/mixtral-8x7b); the input distribution is not published: OpenOrca's is assumed"},
  };
  return d;
}

LengthDistribution::LengthDistribution(const LengthStats& stats) : s_(complete(stats)) {
  if (!(s_.min <= s_.median && s_.median <= s_.p99 && s_.p99 <= s_.max))
    throw RequestError(fmt::format("length statistics out of order: min {} median {} p99 {} max {}", s_.min, s_.median,
                                   s_.p99, s_.max));
  // Fit the exponent of the body above the median so the mean matches
  // (bisection; the mean falls as k grows).
  auto mean_at = [&](double k) {
    k_ = k;
    const int n = 20000;
    double m = 0;
    for (int i = 0; i < n; ++i) m += raw((i + 0.5) / n);
    return m / n;
  };
  if (s_.mean > 0) {
    double lo = 0.02, hi = 50;
    if (mean_at(lo) <= s_.mean) {
      k_ = lo;
    } else if (mean_at(hi) >= s_.mean) {
      k_ = hi;
    } else {
      for (int it = 0; it < 60; ++it) {
        const double mid = std::sqrt(lo * hi);
        (mean_at(mid) > s_.mean ? lo : hi) = mid;
      }
      k_ = std::sqrt(lo * hi);
    }
  }
}

double LengthDistribution::raw(double u) const {
  const double lmin = std::log(s_.min), lmed = std::log(s_.median), l99 = std::log(s_.p99), lmax = std::log(s_.max);
  if (u >= 0.99) return std::exp(l99 + (lmax - l99) * std::min(1.0, (u - 0.99) / 0.01));
  const double z = norm_quantile(std::clamp(u, 1e-12, 1 - 1e-12));
  if (z <= 0) return std::exp(lmed - (lmed - lmin) * std::min(1.0, -z / kZ001));
  return std::exp(lmed + (l99 - lmed) * std::pow(z / kZ99, k_));
}

int64_t LengthDistribution::quantile(double u) const {
  return std::clamp<int64_t>(static_cast<int64_t>(std::llround(raw(u))), static_cast<int64_t>(s_.min),
                             static_cast<int64_t>(s_.max));
}

std::vector<Request> dataset_requests(const std::string& name, int64_t n, uint64_t seed) {
  if (n < 0) throw RequestError(fmt::format("--requests {}: must be positive", n));
  std::vector<Request> r;
  if (name.rfind("fixed:", 0) == 0) {
    int64_t in = 0, out = 0;
    char extra = 0;
    if (std::sscanf(name.c_str(), "fixed:%ld:%ld%c", &in, &out, &extra) != 2 || in < 1 || out < 1)
      throw RequestError(fmt::format("--dataset '{}': expected fixed:IN:OUT with positive token counts", name));
    if (n == 0) n = 1000;
    for (int64_t i = 0; i < n; ++i) r.push_back({i, 0, in, out});
    return r;
  }
  const DatasetInfo* info = nullptr;
  for (const auto& d : builtin_datasets())
    if (d.name == name) info = &d;
  if (!info) {
    std::string names;
    for (const auto& d : builtin_datasets()) names += d.name + ", ";
    throw RequestError(fmt::format("--dataset '{}': not a built-in dataset ({}fixed:IN:OUT) or a trace file", name, names));
  }
  if (n == 0) n = info->samples;
  const LengthDistribution in(info->input), out(info->output);
  // stratified quantiles u_i = (i + 1/2) / n, each list shuffled by the seed
  std::mt19937_64 g(seed);
  auto strata = [&](const LengthDistribution& d) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = d.quantile((static_cast<double>(i) + 0.5) / static_cast<double>(n));
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(g() % i)]);  // Fisher-Yates
    return v;
  };
  const auto ins = strata(in), outs = strata(out);
  for (int64_t i = 0; i < n; ++i) {
    Request q{i, 0, ins[static_cast<size_t>(i)], outs[static_cast<size_t>(i)]};
    if (info->max_total > 0) q.output = std::max<int64_t>(1, std::min(q.output, info->max_total - q.prompt));
    r.push_back(q);
  }
  return r;
}

namespace {

double number(const std::string& v, const std::string& where, const std::string& field) {
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  while (used < v.size() && std::isspace(static_cast<unsigned char>(v[used]))) ++used;
  if (v.empty() || used != v.size() || !std::isfinite(x))
    throw RequestError(fmt::format("{}: {} '{}' is not a number", where, field, v));
  return x;
}

int64_t tokens(double x, const std::string& where, const std::string& field) {
  if (x < 1 || x != std::floor(x) || x > 1e9)
    throw RequestError(fmt::format("{}: {} {} must be a whole number of tokens, at least 1", where, field, x));
  return static_cast<int64_t>(x);
}

void add_checked(std::vector<Request>& r, double at, int64_t p, int64_t o, const std::string& where) {
  if (at < 0) throw RequestError(fmt::format("{}: arrived_at {} is negative", where, at));
  if (!r.empty() && at < r.back().arrival_s)
    throw RequestError(fmt::format("{}: arrived_at {} is before the previous request's {} (arrivals must be in order)",
                                   where, at, r.back().arrival_s));
  r.push_back({static_cast<int64_t>(r.size()), at, p, o});
}

}  // namespace

std::vector<Request> read_trace(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw RequestError(fmt::format("{}: cannot open the trace", path));
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  size_t first = 0;
  while (first < lines.size() && lines[first].find_first_not_of(" \t") == std::string::npos) ++first;
  if (first == lines.size()) throw RequestError(fmt::format("{}: empty trace (no header, no requests)", path));
  std::vector<Request> r;
  const bool jsonl = path.ends_with(".jsonl") || path.ends_with(".json") || lines[first].find('{') == lines[first].find_first_not_of(" \t");
  if (jsonl) {
    for (size_t i = first; i < lines.size(); ++i) {
      if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
      const std::string where = fmt::format("{}:{}", path, i + 1);
      nlohmann::json j;
      try {
        j = parse_json(lines[i], where);
      } catch (const InputError& e) {
        throw RequestError(e.what());
      }
      if (!j.is_object()) throw RequestError(fmt::format("{}: not a JSON object", where));
      auto field = [&](const char* k) {
        if (!j.contains(k)) throw RequestError(fmt::format("{}: missing field '{}'", where, k));
        const auto& v = j[k];
        if (!v.is_number()) throw RequestError(fmt::format("{}: {} must be a number, not {}", where, k, one_line(v.dump(), 80)));
        const double x = v.get<double>();
        if (!std::isfinite(x)) throw RequestError(fmt::format("{}: {} is not finite", where, k));
        return x;
      };
      // one field at a time, in the columns' order, so the first bad one is named
      const double at = field("arrived_at");
      const int64_t p = tokens(field("num_prefill_tokens"), where, "num_prefill_tokens");
      const int64_t o = tokens(field("num_decode_tokens"), where, "num_decode_tokens");
      add_checked(r, at, p, o, where);
    }
  } else {
    auto split = [](const std::string& s) {
      std::vector<std::string> v;
      std::stringstream ss(s);
      for (std::string c; std::getline(ss, c, ',');) {
        const auto b = c.find_first_not_of(" \t\""), e = c.find_last_not_of(" \t\"");
        v.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
      }
      if (!s.empty() && s.back() == ',') v.push_back("");
      return v;
    };
    const auto head = split(lines[first]);
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < head.size(); ++i) col[head[i]] = i;
    for (const char* k : {"arrived_at", "num_prefill_tokens", "num_decode_tokens"})
      if (!col.count(k))
        throw RequestError(fmt::format("{}:{}: the header has no '{}' column (expected arrived_at,num_prefill_tokens,"
                                       "num_decode_tokens)",
                                       path, first + 1, k));
    for (size_t i = first + 1; i < lines.size(); ++i) {
      if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
      const std::string where = fmt::format("{}:{}", path, i + 1);
      const auto c = split(lines[i]);
      if (c.size() != head.size())
        throw RequestError(fmt::format("{}: {} fields where the header has {}", where, c.size(), head.size()));
      const double at = number(c[col["arrived_at"]], where, "arrived_at");
      const int64_t p = tokens(number(c[col["num_prefill_tokens"]], where, "num_prefill_tokens"), where, "num_prefill_tokens");
      const int64_t o = tokens(number(c[col["num_decode_tokens"]], where, "num_decode_tokens"), where, "num_decode_tokens");
      add_checked(r, at, p, o, where);
    }
  }
  if (r.empty()) throw RequestError(fmt::format("{}: the trace holds no requests", path));
  return r;
}

Arrivals parse_arrivals(const std::string& s) {
  Arrivals a;
  if (s == "poisson") return a;
  if (s == "fixed") {
    a.kind = Arrivals::Kind::fixed;
    return a;
  }
  if (s.rfind("gamma:", 0) == 0) {
    a.kind = Arrivals::Kind::gamma;
    try {
      size_t used = 0;
      a.cv = std::stod(s.substr(6), &used);
      if (used != s.size() - 6) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw RequestError(fmt::format("--arrival '{}': gamma:CV needs a number", s));
    }
    if (!(a.cv > 0 && a.cv <= 100)) throw RequestError(fmt::format("--arrival '{}': CV must be in (0, 100]", s));
    return a;
  }
  throw RequestError(fmt::format("--arrival '{}': expected poisson, gamma:CV or fixed", s));
}

void assign_arrivals(std::vector<Request>& r, double rate, const Arrivals& a, uint64_t seed) {
  if (!(rate > 0) || !std::isfinite(rate)) throw RequestError(fmt::format("--rate {}: must be a positive number", rate));
  std::mt19937_64 g(seed ^ 0x5eedc41bULL);
  auto gamma = [&](double shape) {  // Marsaglia-Tsang, unit scale
    auto normal = [&] {
      const double u1 = 1 - uniform(g), u2 = uniform(g);
      return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    };
    double boost = 1;
    if (shape < 1) {
      boost = std::pow(1 - uniform(g), 1 / shape);
      shape += 1;
    }
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
      double x = normal(), v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const double u = 1 - uniform(g);
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * boost;
    }
  };
  double t = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    r[i].arrival_s = t;
    double gap = 1 / rate;
    if (a.kind == Arrivals::Kind::poisson) gap = -std::log(1 - uniform(g)) / rate;
    else if (a.kind == Arrivals::Kind::gamma) gap = gamma(1 / (a.cv * a.cv)) * a.cv * a.cv / rate;
    t += gap;
  }
}

}  // namespace seedchip::serve
