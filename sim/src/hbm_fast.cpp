// seedchip — transfer-level HBM timing model and its calibration against the
// command-level model (see hbm.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "seedchip/sim/hbm.h"

namespace seedchip::sim {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/// Inverse of the standard normal CDF for p in (0, 1) (Acklam's rational
/// approximation, relative error < 1.2e-9).
double inverse_normal_cdf(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671324505583e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - plow) return -inverse_normal_cdf(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/// Expected maximum of `n` standard normal samples (Blom's approximation).
double expected_max_normal(double n) {
  if (n <= 1) return 0;
  return inverse_normal_cdf((n - 0.375) / (n + 0.25));
}

}  // namespace

HbmFast::HbmFast(const HbmParams& p) : p_(p) {
  validate_hbm_params(p_);
  for (double e : {p_.efficiency_sequential, p_.efficiency_strided, p_.efficiency_random})
    if (!(e > 0 && e <= 1)) throw std::invalid_argument("HBM parameters: efficiencies must be in (0, 1]");
}

double HbmFast::peak_bytes_per_ns() const { return hbm_peak_bytes_per_ns(p_); }

HbmResult HbmFast::run(const std::vector<Access>& streams) {
  const HbmDeviceParams& d = p_.dev;
  const uint64_t bb = d.burst_bytes;
  const uint64_t g = std::max<uint64_t>(bb, kHbmInterleaveBytes);
  const uint64_t np = uint64_t(p_.devices) * d.channels * d.pseudo_channels;

  // Refresh: every tREFI a pseudo-channel stops for tRFC, plus closing its
  // rows before (tRP) and reopening one after (tRCD). The efficiencies are
  // sustained fractions of peak with refresh included; the work below uses
  // them with refresh taken out, and refresh is added for the busiest
  // pseudo-channel.
  double refresh_factor = 1, refresh_cost = 0, refresh_interval = 0;
  if (d.tREFI != 0) {
    refresh_cost = double(d.tRFC) + d.tRP + d.tRCD;
    refresh_interval = std::max(1.0, d.tREFI - refresh_cost);  // busy cycles between refreshes
    refresh_factor = d.tREFI / refresh_interval;
  }
  const auto without_refresh = [&](double e) { return std::min(1.0, e * refresh_factor); };

  HbmResult res{};
  double work = 0;  // pseudo-channel cycles, summed over pseudo-channels
  double bursts = 0, write_bursts = 0, granules = 0, random_granules = 0;
  for (const Access& a : streams) {
    if (a.run_bytes == 0 || a.count == 0) continue;
    const uint64_t total = a.run_bytes * a.count;
    res.bytes += total;
    const bool contiguous = !a.random && (a.count <= 1 || a.stride == int64_t(a.run_bytes));
    double eff, nb, ng;
    if (contiguous) {
      eff = without_refresh(p_.efficiency_sequential);
      nb = double(ceil_div(a.addr % bb + total, bb));
      ng = double(ceil_div(a.addr % g + total, g));
    } else {
      eff = without_refresh(a.random                ? p_.efficiency_random
                            : a.run_bytes >= np * g ? p_.efficiency_sequential
                                                    : p_.efficiency_strided);
      // Offsets of the first run (runs of a regular stride share them when
      // the stride is a multiple of the burst).
      nb = double(ceil_div(a.addr % bb + a.run_bytes, bb)) * double(a.count);
      const uint64_t step = a.stride < 0 ? uint64_t(-(a.stride + 1)) + 1 : uint64_t(a.stride);
      if (!a.random && step < g) {
        // Runs share granules, which are activated about as often as in a
        // sequential stream.
        ng = std::min(nb, std::ceil((double(step) * double(a.count - 1) + double(a.addr % g + a.run_bytes)) / double(g)));
      } else {
        ng = double(ceil_div(a.addr % g + a.run_bytes, g)) * double(a.count);
        // Each run costs an activate; a pseudo-channel activates at most
        // once per max(tRRD_S, tFAW / 4).
        const double act_interval = std::max<double>({double(d.tRRD_S), d.tFAW / 4.0, 1.0});
        eff = std::min(eff, nb / ng * d.tBURST / act_interval);
      }
    }
    work += nb * d.tBURST / eff;
    bursts += nb;
    if (a.write) write_bursts += nb;
    granules += ng;
    if (a.random) random_granules += ng;
  }
  if (bursts == 0) return res;

  // Granules on the busiest pseudo-channel.
  const double P = double(np);
  double max_load;
  if (random_granules == 0) {
    max_load = double(ceil_div(uint64_t(granules), np));
  } else {
    const double m_rand = random_granules / P;
    max_load = std::max(1.0, granules / P + expected_max_normal(P) * std::sqrt(m_rand * (1 - 1 / P)));
  }
  double busy = work / granules * max_load;  // cycles, busiest pseudo-channel, without refresh
  if (max_load <= 1) busy = std::max(busy, bursts / granules * d.tCCD_L);

  // Refreshes are staggered evenly over tREFI, so the busiest
  // pseudo-channel, busy for x refresh intervals, refreshes floor(x) times
  // and once more if any of the pseudo-channels in use meets a refresh in
  // the remainder.
  const double used = random_granules == 0 ? std::min(P, granules) : P * (1 - std::pow(1 - 1 / P, granules));
  double refresh_time = 0;
  if (d.tREFI != 0) {
    const double x = busy / refresh_interval;
    refresh_time = refresh_cost * (std::floor(x) + std::min(1.0, (x - std::floor(x)) * used));
  }

  const double wf = write_bursts / bursts, rf = 1 - wf;
  const double access = d.tRCD + rf * d.tCL + wf * d.tWL;
  res.ns = p_.latency_ns + (access + busy + refresh_time) * d.tck_ns;
  res.bytes_per_ns = double(res.bytes) / res.ns;

  // Little's law: a saturated controller holds kHbmQueueDepth requests, so a
  // request waits for that many service intervals (the first batch for
  // fewer, after the first activate).
  const double n = bursts / std::max(1.0, used);    // requests per pseudo-channel
  const double ts = work / bursts * refresh_factor;  // cycles per request on a pseudo-channel
  const double q = kHbmQueueDepth;
  const double wait = n <= q ? ts * (n + 1) / 2 + d.tRCD : ts * (q * (q + 1) / 2 + (n - q) * q) / n + d.tRCD * q / n;
  res.avg_latency_ns = p_.latency_ns + (wait + rf * d.tCL + wf * d.tWL + d.tBURST) * d.tck_ns;
  return res;
}

std::vector<Access> hbm_calibration_pattern(int kind, uint64_t bytes) {
  switch (kind) {
    case 0:
      return {Access{0, bytes, 1, int64_t(bytes), false}};
    case 1:
      return {Access{0, 256, bytes / 256, 4096, false}};
    case 2:
      return {Access{0, 256, bytes / 256, 256, false, true, 1ull << 30}};
    default:
      throw std::invalid_argument("hbm_calibration_pattern: kind must be 0, 1 or 2");
  }
}

HbmCalibration calibrate_hbm_fast(const HbmParams& p, uint64_t bytes) {
  HbmDetailed detailed(p);
  HbmCalibration cal{};
  double* eff[] = {&cal.sequential, &cal.strided, &cal.random};
  HbmResult* det[] = {&cal.detailed_sequential, &cal.detailed_strided, &cal.detailed_random};
  for (int k = 0; k < 3; ++k) {
    const std::vector<Access> pattern = hbm_calibration_pattern(k, bytes);
    *det[k] = detailed.run(pattern);
    // The fast model's time falls monotonically with the efficiency: bisect.
    double lo = 1e-3, hi = 1;
    if (p.dev.tREFI != 0)  // the efficiencies include refresh
      hi = std::max(lo, 1 - (double(p.dev.tRFC) + p.dev.tRP + p.dev.tRCD) / p.dev.tREFI);
    for (int it = 0; it < 60; ++it) {
      const double mid = (lo + hi) / 2;
      HbmParams q = p;
      q.efficiency_sequential = q.efficiency_strided = q.efficiency_random = mid;
      (HbmFast(q).run(pattern).ns > det[k]->ns ? lo : hi) = mid;
    }
    *eff[k] = (lo + hi) / 2;
  }
  return cal;
}

}  // namespace seedchip::sim
