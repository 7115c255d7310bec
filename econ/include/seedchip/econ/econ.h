// seedchip — chip economics (docs/cost.md): die area from the chip
// description and a process node, yield and unit cost, TDP from the energy
// model, and the total cost of ownership of serving. Every parameter is data
// (econ/data/*.yaml: value, low-high range, source) and can be overridden.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/numerics/input.h"
#include "seedchip/arch/chip.h"

namespace seedchip::econ {

/// A model parameter: its value, the range it is uncertain over and where it comes from.
struct Param {
  double value = 0, low = 0, high = 0;
  std::string unit, source;
};

/// Bad economics input (unknown node, a die over the reticle, a bad
/// override); the message names the file, key or flag.
class EconError : public InputError {
 public:
  using InputError::InputError;
};

/// Names of the built-in process nodes (tsmc-n7, samsung-sf4x, ...).
std::vector<std::string> node_names();

/// The parameters one costing uses: the node's (logic_mtr_mm2, sram_mb_mm2,
/// d0_per_cm2, alpha, wafer_usd, mask_musd) and the global ones
/// (econ/data/assumptions.yaml), with the calibrated core_logic_mtr and
/// sram_scale. Keys are flat.
struct Assumptions {
  std::string node;
  std::map<std::string, Param> params;
  double operator[](const std::string& key) const;
  /// Sets a value (kept within nothing: the caller's override); throws for an unknown key.
  void set(const std::string& key, double value, const std::string& source);
};

/// Default node when a chip names none.
inline constexpr const char* kDefaultNode = "samsung-sf4x";

/// The assumptions for `node` (empty: kDefaultNode). Throws EconError for an
/// unknown node, naming `where` (a file and key, or a flag).
Assumptions assumptions(const std::string& node, const std::string& where = "--node");
/// Applies `KEY=VALUE` overrides (from --set) and a YAML file of KEY: VALUE.
void apply_overrides(Assumptions& a, const std::vector<std::string>& sets, const std::string& yaml_file);

/// What the area model counts on a die.
struct AreaInputs {
  double pes = 0;                      ///< matrix processing elements (MACs per cycle at the fastest type)
  double control_units = 0;            ///< instruction-issuing units (cores, SMs, PEs of a many-core die)
  std::map<std::string, double> rate;  ///< per type class (int8, fp8, fp16, fp32): MACs per PE per cycle
  double sram_mib = 0, accumulator_mib = 0, instruction_mib = 0;
  double vector_lanes = 0, noc_units = 0;
  double hbm_stacks = 0, dram_channels = 0, links = 0, pcie_lanes = 16;
};

/// The area inputs of a chip description, spare cores included.
AreaInputs area_inputs(const arch::Chip& chip);

/// Die area and its breakdown, mm2.
struct Area {
  std::map<std::string, double> breakdown;  ///< matrix, vector, sram, accumulators, instruction_memory, noc, hbm_phy, ...
  double total = 0;
  double core_mm2 = 0;  ///< one core (matrix, vector and its memories): the unit harvesting spares
};
Area die_area(const AreaInputs& in, const Assumptions& a);

/// One published die the area model is fitted on or checked against.
struct PublishedDie {
  std::string name, role, bound, node, source;
  double area_mm2 = 0;
  AreaInputs inputs;
};
const std::vector<PublishedDie>& published_dies();

/// The calibration of core_logic_mtr and sram_scale on the "calibration" dies:
/// least squares on log area. Per die: the in-sample prediction and the
/// leave-one-out one (refitted without the die).
struct Calibration {
  double core_logic_mtr = 0, sram_scale = 1;
  struct Row {
    std::string name, role, bound;
    double published = 0, in_sample = 0, loo = 0;  ///< mm2 (loo: 0 for check dies: they are never fitted)
  };
  std::vector<Row> rows;
};
/// Computed once (deterministic) and cached.
const Calibration& calibration();

/// Yield of a die of `area_mm2` (negative-binomial, poisson or murphy).
double die_yield(double area_mm2, double d0_per_cm2, double alpha, const std::string& model);

/// Unit cost of a chip.
struct Cost {
  std::string node, yield_model;
  Area area;
  double dies_per_wafer = 0, yield = 0, good_die_cost_usd = 0, hbm_cost_usd = 0, package_cost_usd = 0,
         test_cost_usd = 0, nre_usd = 0, nre_per_unit_usd = 0, unit_cost_usd = 0, price_usd = 0;
  int64_t units = 0;
  double tdp_w = 0;  ///< the energy model's (tdp())
  std::vector<std::string> used;  ///< parameter keys the figures depend on
};

/// Costs `chip` (node from --node, else its process section, else the
/// default) for `units` units. Throws EconError for a die over the reticle,
/// more spare cores than make sense, a zero unit count.
Cost chip_cost(const arch::Chip& chip, const Assumptions& a, int64_t units, const std::string& yield_model = "negative-binomial");
/// {value, low, high, unit, source} of a parameter.
nlohmann::json param_json(const Param& p);
/// The JSON of a costing, with `assumptions`: every parameter used, value and source.
nlohmann::json cost_json(const Cost& c, const Assumptions& a);

/// What a timed run did, as the energy model needs it (the timing model's counters).
struct Activity {
  std::map<DType, uint64_t> macs;  ///< matrix MACs by input type
  uint64_t vector_elements = 0, sram_bytes = 0, hbm_bytes = 0;
  double seconds = 0;
};
/// Energy of a run: per-op energies of the chip's `energy:` section times the
/// counters (uint8 and int4 MACs at the int8 energy when the chip lists none),
/// plus static power over the run's time. Joules.
struct Energy {
  double dynamic_j = 0, static_j = 0, total_j = 0;
};
Energy run_energy(const arch::Chip& chip, const Activity& a);

/// Power at full activity of every engine (the energy model's per-op
/// energies at peak rates) plus static power, W; and its parts.
struct Tdp {
  double matrix_w = 0, vector_w = 0, sram_w = 0, hbm_w = 0, static_w = 0, total_w = 0;
};
Tdp tdp(const arch::Chip& chip);

/// Total cost of ownership of one chip serving at `tokens_per_s` (output
/// tokens per second per chip while serving) drawing `avg_power_w`.
struct Tco {
  double price_usd = 0, server_share_usd = 0, capex_per_year_usd = 0, facility_per_year_usd = 0,
         energy_per_year_usd = 0, per_chip_year_usd = 0, usd_per_million_tokens = 0, tokens_per_joule = 0,
         tokens_per_s_per_usd = 0, facility_w = 0;
};
/// `price_usd`: what the chip costs its owner (market price or unit cost
/// plus margin); `tdp_w`: what the facility is provisioned for.
Tco tco(double price_usd, double tokens_per_s, double avg_power_w, double tdp_w, const Assumptions& a);
/// The owner's price of a chip: process.price_usd when set, else cost x (1 + margin).
double owner_price(const arch::Chip& chip, const Cost& c, const Assumptions& a);

/// Adds a serving run's cost keys (price_usd, usd_per_million_tokens,
/// tokens_per_joule, tokens_per_s_per_usd) for `chip` at its process node and
/// 100,000 units; nothing when the chip cannot be costed (a die over the reticle).
void add_tco_keys(nlohmann::json& j, const arch::Chip& chip, double tokens_per_s_per_chip, double avg_power_w);

/// One row of the sensitivity (tornado) table: an uncertain parameter at its low and high ends.
struct Swing {
  std::string key;
  double low = 0, high = 0;       ///< the parameter's range
  double at_low = 0, at_high = 0; ///< the figure with the parameter there
  double swing() const { return std::abs(at_high - at_low); }
};
/// Varies each parameter of `a` with low < high over its range, others at
/// their values; `figure` computes the figure from assumptions. Largest swing first.
std::vector<Swing> sensitivity(const Assumptions& a, const std::function<double(const Assumptions&)>& figure);

}  // namespace seedchip::econ
