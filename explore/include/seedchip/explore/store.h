// seedchip — a sweep's results in SQLite (docs/explore.md "The database"):
// one row per design x workload with every figure, each design point's rows
// written in one transaction, so a sweep stopped at any moment (a kill, a
// dead MPI rank) leaves a consistent file that the next run resumes.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/explore/sweep.h"

struct sqlite3;

namespace seedchip::explore {

/// The results database of one sweep.
class Store {
 public:
  /// Opens (or creates) `path` for sweep `s`; ":memory:" keeps nothing.
  /// Throws SweepError when the file holds another sweep's results (another
  /// fingerprint) or is not a seedchip database.
  Store(const std::string& path, const Sweep& s);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Points (by index, baselines negative) whose rows are all there.
  std::set<int64_t> done() const;
  /// Writes every row of one point in one transaction (replacing any).
  void write(const PointResult& r);
  /// All rows, ordered by point then workload order of the sweep.
  std::vector<Row> rows() const;
  /// All rows as JSON objects (parameters, status, every figure), same order.
  nlohmann::json rows_json() const;
  /// Records the Pareto front of each workload (table pareto).
  void write_pareto(const std::vector<std::pair<std::string, std::vector<int64_t>>>& fronts);

 private:
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  const Sweep& sweep_;
  std::string path_;
  std::vector<std::string> columns_;  ///< the figure columns, in table order
};

/// The figure columns a workload row carries (design figures first).
const std::vector<std::string>& row_columns();

}  // namespace seedchip::explore
