// seedchip — HBM/DRAM timing models: a command-level model (HbmDetailed) and
// a transfer-level model (HbmFast) calibrated against it.
//
// Both models are independent of arch/: they take their own parameter structs,
// which the chip description fills in.
//
// Address mapping (shared by both models; see hbm_map())
// -----------------------------------------------------
// The address space is cut into interleave granules of G = max(burst_bytes,
// 256) bytes (a granule is G / burst_bytes bursts). With
//   P = devices * channels * pseudo_channels      (pseudo-channels in total)
//   B = bank_groups * banks_per_group             (banks per pseudo-channel)
//   C = row_bytes / G                             (granules per row)
// granule c = addr / G is placed as follows:
//   slot   = digitsum_P(c) mod P          pseudo-channel slot: consecutive
//                                         granules go to consecutive slots;
//                                         device fastest, then channel, then
//                                         pseudo-channel:
//              device = slot % devices, channel = slot / devices % channels,
//              pseudo_channel = slot / (devices * channels)
//   u      = c / P                        granule index inside that pseudo-channel
//   bank   = digitsum_B(u) mod B          bank group fastest:
//              bank_group = bank % bank_groups, bank (in group) = bank / bank_groups
//   v      = u / B
//   column = (v % C) * (G / burst_bytes) + (addr % G) / burst_bytes  (in bursts)
//   row    = v / C
// digitsum_N(x) is the sum of the base-N digits of x. Adding the higher digits
// is a skew (the mod-N analogue of the usual XOR bank/channel hashing): it
// keeps the mapping a bijection, leaves sequential streams on all channels and
// banks in order (one granule per pseudo-channel, then the next bank, ...),
// and spreads power-of-two strides, which would otherwise hit a few channels or
// one bank only.
#pragma once

#include <cstdint>
#include <vector>

namespace seedchip::sim {

/// One HBM stack / DRAM device; timings in memory-clock cycles (tCK).
///   tCCD_S/tCCD_L: column-to-column, different / same bank group.
///   tRRD_S/tRRD_L: activate-to-activate, different / same bank group.
///   tFAW: at most four activates per pseudo-channel in any tFAW window.
///   tWR: end of write data to precharge. tWTR: end of write data to the next
///   read command. tRTW: read command to the next write command.
///   Read-to-precharge is tBURST. tREFI == 0 disables refresh.
struct HbmDeviceParams {
  uint32_t channels, pseudo_channels, bank_groups, banks_per_group, row_bytes, burst_bytes;
  double tck_ns;
  uint32_t tRCD, tRP, tRAS, tCL, tWL, tCCD_S, tCCD_L, tRRD_S, tRRD_L, tFAW, tWR, tWTR, tRTW, tREFI, tRFC,
      tBURST;
};

struct HbmParams {
  uint32_t devices;
  HbmDeviceParams dev;
  double latency_ns;  ///< controller+PHY fixed latency added to each request
  /// Used by the fast model (see HbmFast): fraction of its peak that a
  /// saturated pseudo-channel sustains for that access class in the steady
  /// state, refresh included (at most 1 - (tRFC + tRP + tRCD) / tREFI).
  /// Fit them with calibrate_hbm_fast().
  double efficiency_sequential, efficiency_strided, efficiency_random;
};

/// One memory request stream: a transfer of run_bytes * count bytes starting
/// at `addr`, made of `count` contiguous runs of `run_bytes`, successive runs
/// `stride` bytes apart (stride == run_bytes: sequential). `random` = true:
/// run addresses are pseudo-random over `span` bytes from `addr` (fixed seed;
/// runs aligned to run_bytes; span 0 means count * run_bytes).
struct Access {
  uint64_t addr;
  uint64_t run_bytes;
  uint64_t count;
  int64_t stride;
  bool write;
  bool random = false;
  uint64_t span = 0;
};

struct HbmResult {
  double ns;              ///< time from first request issued to last data returned (incl. latency_ns)
  double bytes_per_ns;    ///< bytes / ns
  double avg_latency_ns;  ///< mean per burst request: queue entry -> data returned (or written), + latency_ns
  uint64_t bytes;         ///< bytes requested (sum of run_bytes * count)
  /// row_misses: bursts that needed an activate (the first burst after
  /// each activate); row_hits: the other bursts (row_hits + row_misses =
  /// bursts). refreshes: all-bank refreshes, summed over pseudo-channels.
  /// The fast model estimates none of them (zero).
  uint64_t row_hits, row_misses, refreshes;
};

/// Where a byte address lives (see the mapping at the top of this file).
struct HbmLocation {
  uint32_t device, channel, pseudo_channel, bank_group, bank;  ///< bank: within its group
  uint64_t row;
  uint32_t column;  ///< burst index within the row
};

/// Requests a pseudo-channel controller holds (burst requests).
inline constexpr uint32_t kHbmQueueDepth = 64;
/// Interleave granule: max(burst_bytes, kHbmInterleaveBytes).
inline constexpr uint32_t kHbmInterleaveBytes = 256;

/// Throws std::invalid_argument naming the first bad field.
void validate_hbm_params(const HbmParams& p);
/// Peak data rate over all devices: devices*channels*pseudo_channels*burst_bytes/(tBURST*tck_ns).
double hbm_peak_bytes_per_ns(const HbmParams& p);
/// Address mapping shared by both models.
HbmLocation hbm_map(const HbmParams& p, uint64_t addr);

/// One command the detailed model issued (see HbmDetailed::record_commands).
struct HbmCommand {
  enum Kind : uint8_t { ACT, PRE, PREA, RD, WR, REF } kind;
  uint32_t slot;  ///< pseudo-channel slot (see the mapping)
  uint16_t bank;  ///< flat: bank_group = bank % bank_groups (0 for PREA/REF)
  uint64_t row;
  int64_t cycle;
};

/// Command-level model.
///   Controller: one per pseudo-channel, with a kHbmQueueDepth-entry request
///   queue (one burst per request) and an FR-FCFS scheduler: the command that
///   can issue earliest goes first, ties to the oldest request; open-page
///   policy (a bank is precharged only when a queued request needs another
///   row and no queued request needs the open one). Separate row (ACT, PRE,
///   PREA, REF) and column (RD, WR) command buses, one command per cycle each.
///   Reads and writes are batched: column commands keep one direction while
///   it has queued requests, turning around early only after 16 commands
///   when the other direction could issue sooner, and at the latest after
///   2 * kHbmQueueDepth when the other direction waits.
///   Timing: per bank open row and earliest ACT/RD/WR/PRE (tRCD, tRAS, tRP,
///   tWR, read-to-precharge tBURST); per bank group tCCD_L, tRRD_L; per
///   pseudo-channel tCCD_S, tRRD_S, tFAW, tWTR, tRTW and the data bus (tCL /
///   tWL after the command, tBURST per burst); all-bank refresh every tREFI,
///   staggered evenly over the pseudo-channels: open banks are precharged
///   (PREA), then REF, then no activate for tRFC.
///   Requests: the streams' bursts are interleaved round-robin (one burst per
///   stream in turn), and each burst goes to its pseudo-channel's queue in
///   that order, entering when the queue has room (time 0 for the first
///   kHbmQueueDepth); pseudo-channels do not block each other, so each is
///   simulated on its own, event-driven, one after another.
///   Result: ns = latency_ns + the last data beat over all pseudo-channels;
///   a request's latency runs from entering its queue to its last data beat.
class HbmDetailed {
 public:
  explicit HbmDetailed(const HbmParams& p);
  HbmResult run(const std::vector<Access>& streams);
  /// Each later run() clears `*trace` and appends the commands it issues
  /// (grouped by pseudo-channel, in issue order); nullptr stops recording.
  void record_commands(std::vector<HbmCommand>* trace) { trace_ = trace; }

 private:
  HbmParams p_;
  std::vector<HbmCommand>* trace_ = nullptr;
};

/// Transfer-level model (P pseudo-channels, G-byte granules as in the mapping).
///   Class of a stream: random -> efficiency_random; count <= 1, stride ==
///   run_bytes, or run_bytes >= P * G (each run covers every pseudo-channel)
///   -> efficiency_sequential; anything else -> efficiency_strided.
///   Strided runs at least a granule apart and random runs cost an activate
///   each, so their efficiency is at most (bursts per run) * tBURST /
///   max(tRRD_S, tFAW / 4) (exact for runs of 1-2 bursts; optimistic for
///   runs of 3-7 bursts, e.g. 128 B random: ~20% above the detailed model).
///   Runs cost whole bursts.
///   Work: a burst occupies a pseudo-channel for tBURST / e cycles, where e
///   is the efficiency with refresh taken out (efficiency * tREFI / (tREFI -
///   tRFC - tRP - tRCD), at most 1); concurrent streams share the
///   pseudo-channels (their work adds).
///   Spread: a stream touches g granules (contiguous: its span / G; else
///   count * ceil(run_bytes / G), or its span / G when runs are closer than
///   G); regular streams put at most ceil(g / P) granules on a
///   pseudo-channel, random ones the expected maximum of g balls in P bins
///   (normal approximation); one granule alone on a pseudo-channel runs at
///   best at tCCD_L per burst.
///   Refresh: each refresh costs tRFC + tRP + tRCD; the busiest
///   pseudo-channel, busy for x refresh intervals (tREFI less that cost),
///   refreshes floor(x) times, plus once if any pseudo-channel in use meets
///   a refresh in the remainder (the detailed model staggers refreshes
///   evenly), so a short transfer may pay a whole tRFC.
///   ns = latency_ns + (tRCD + tCL, or tWL for writes) * tck + the busiest
///   pseudo-channel's work and refreshes.
///   avg_latency_ns = latency_ns + queueing by Little's law (a saturated
///   controller holds kHbmQueueDepth requests; the first batch waits for
///   fewer, after the first activate) + tCL (tWL) + tBURST.
///   Not modelled: read/write mixing (turnaround, batching; 8 MiB reads +
///   8 MiB writes concurrently: detailed ~60% of peak, fast ~87%), write
///   recovery on row misses (random 256 B writes: detailed ~12% below
///   random reads), bank conflicts between concurrent streams.
class HbmFast {
 public:
  explicit HbmFast(const HbmParams& p);
  HbmResult run(const std::vector<Access>& streams);
  double peak_bytes_per_ns() const;

 private:
  HbmParams p_;
};

/// The fast model's efficiencies fitted to the detailed model, and the
/// detailed runs they come from.
struct HbmCalibration {
  double sequential, strided, random;
  HbmResult detailed_sequential, detailed_strided, detailed_random;
};
/// The calibration patterns (reads): sequential `bytes`; strided 256 B runs
/// every 4 KiB; random 256 B runs over 1 GiB; each `bytes` in total.
std::vector<Access> hbm_calibration_pattern(int kind /* 0 sequential, 1 strided, 2 random */, uint64_t bytes);
/// Runs the detailed model on the three calibration patterns and solves
/// (bisection) for the efficiencies with which the fast model reproduces the
/// detailed model's time on each; p's own efficiencies are ignored.
HbmCalibration calibrate_hbm_fast(const HbmParams& p, uint64_t bytes = 16ull << 20);

}  // namespace seedchip::sim
