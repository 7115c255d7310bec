// seedchip — design-space sweeps (docs/explore.md): a sweep file names a base
// chip, the chip YAML keys to vary (lists, ranges, a seeded random or
// Latin-hypercube sample), keys derived from them, constraints on the
// design's figures and serving workloads. Each design point is validated as
// strictly as a chip file, costed (econ) and served (serve); results go to a
// SQLite database one row per design x workload (store.h), and the Pareto
// fronts are computed over them.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/numerics/input.h"
#include "seedchip/arch/chip.h"
#include "seedchip/serve/scenario.h"

namespace seedchip::explore {

/// The most design points one sweep may have (grid product, range points,
/// sample points): a larger sweep is refused rather than run for days.
inline constexpr double kMaxDesignPoints = 1e6;

/// Bad sweep input; the message names the file and key.
class SweepError : public InputError {
 public:
  using InputError::InputError;
};

/// One varied chip key: its values as YAML scalars (numbers or strings), or a
/// numeric range sampled by the sweep's method.
struct Parameter {
  std::string key;                  ///< dotted chip YAML path, e.g. core.matrix.rows
  std::vector<std::string> values;  ///< a list (grid: every value; samples: one of them)
  bool is_range = false;            ///< {from, to, step | points}
  double from = 0, to = 0, step = 0;
  int64_t points = 0;
  bool integer = false;             ///< from/to/step all integers: sampled values are rounded
};

/// A bound on a design figure (die_area_mm2, tdp_w, hbm_stacks, unit_cost_usd, ...).
struct DesignConstraint {
  std::string figure;
  double min = -std::numeric_limits<double>::infinity(), max = std::numeric_limits<double>::infinity();
};

/// A serving job every design point runs (serve/scenario.h's arguments).
struct Workload {
  std::string name, model, scenario = "server", precision = "fp8", dataset;
  int64_t chips = 8, requests = 300, block_size = 0, max_num_seqs = 0, pp = 1;
  std::vector<int64_t> tp = {8};  ///< layouts tried; the best passing one is kept
  double ttft_slo = -1, tpot_slo = -1;
  bool expert_parallel = false;
  uint64_t seed = 1;
};

/// A parsed sweep file.
struct Sweep {
  std::string source, name;
  std::string base;        ///< chip name or path as resolved
  std::string base_text;   ///< its YAML
  std::string base_source; ///< its source name (path or builtin:NAME)
  std::vector<Parameter> parameters;
  std::vector<std::pair<std::string, std::string>> derived;  ///< key -> expression, in file order
  std::string method = "grid";  ///< grid | random | latin-hypercube
  int64_t samples = 0;
  uint64_t seed = 1;
  bool model_tdp = true;   ///< tdp: model (each point's tdp_w from the energy model) | declared
  int64_t units = 100000;  ///< costing volume
  std::vector<DesignConstraint> constraints;
  std::vector<Workload> workloads;
  std::vector<std::string> baselines;  ///< chips served on the same workloads, outside the sweep
  /// A digest of everything that decides the results: a database holding
  /// another sweep's rows is refused rather than mixed.
  std::string fingerprint;
};

/// Reads and checks `path`. Throws SweepError naming the file and key
/// (unknown keys with the nearest valid one).
Sweep load_sweep(const std::string& path);

/// One design point: a value for each parameter (YAML scalars, in parameter order).
struct DesignPoint {
  int64_t index = 0;
  std::string name;  ///< "p<index>", or the baseline chip's name
  std::vector<std::string> values;
  bool baseline = false;
};

/// The design points, deterministic for a sweep (grid order: the last
/// parameter varies fastest). Baselines are not included.
std::vector<DesignPoint> design_points(const Sweep& s);
/// Baselines as points (index -1, -2, ...).
std::vector<DesignPoint> baseline_points(const Sweep& s);

/// The figures of one workload on one design.
struct WorkloadResult {
  std::string workload;
  std::string status;  ///< ok | slo_missed | failed | invalid
  std::string reason;
  int64_t tp = 0;
  std::map<std::string, double> figures;  ///< served_tokens_per_s_per_chip, usd_per_million_tokens, ...
};

/// Everything one design point produced.
struct PointResult {
  DesignPoint point;
  bool valid = false;
  std::string reason;       ///< why not valid (chip validation, a constraint, costing)
  std::string chip_yaml;    ///< the point's chip description
  std::map<std::string, double> design;  ///< die_area_mm2, tdp_w, unit_cost_usd, price_usd, hbm_stacks, ...
  std::vector<WorkloadResult> workloads;
};

/// The figure names a constraint may bound.
const std::vector<std::string>& design_figures();

/// The chip YAML of `p`: the base with the point's values and the derived
/// keys applied. Throws SweepError for an expression that cannot be evaluated.
std::string point_yaml(const Sweep& s, const DesignPoint& p);

/// Chip YAML `yaml` with dotted keys set to values (YAML scalars); maps on
/// the way are created. The result still has to be loaded (validated).
std::string set_keys(const std::string& yaml, const std::vector<std::pair<std::string, std::string>>& values);

/// The serving job of workload `w` on `chip` at tensor-parallel degree `tp`.
serve::ScenarioArgs scenario_args(const Workload& w, const arch::Chip& chip, int64_t tp);

/// Validates, costs and serves one point. Never throws for a bad design: the
/// reason is recorded. Deterministic.
PointResult evaluate(const Sweep& s, const DesignPoint& p);

/// Non-dominated rows (status ok) of one workload over the four objectives:
/// tokens/s per unit price, per watt, per mm2 (higher better) and TCO per
/// million tokens (lower better). Returns indices into `rows`, sorted.
struct Row {
  int64_t point = 0;
  std::string name, workload, status;
  std::map<std::string, double> figures;
};
std::vector<size_t> pareto_front(const std::vector<Row>& rows, const std::string& workload,
                                 const std::vector<std::pair<std::string, bool>>& objectives);
/// The four objectives above ({figure, higher_is_better}).
const std::vector<std::pair<std::string, bool>>& default_objectives();

/// Evaluates an arithmetic expression (+ - * / ^, parentheses, numbers,
/// min/max/round/floor/ceil, dotted names looked up with `lookup`). Throws
/// SweepError naming `where`.
double eval_expression(const std::string& expr, const std::function<std::optional<double>(const std::string&)>& lookup,
                       const std::string& where);

/// The valid key nearest to `key` among `valid` (edit distance; a key whose
/// last component matches exactly wins; else one that starts with `key_`), or "".
std::string nearest(const std::string& key, const std::vector<std::string>& valid);

}  // namespace seedchip::explore
