// seedchip — running a sweep: the design points not yet in the database are
// evaluated by worker threads (--jobs) and, under MPI (--mpi), by every rank:
// rank 0 owns the database and hands out points one at a time; each point's
// evaluation is deterministic, so the database holds the same rows for any
// number of threads or processes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/explore/sweep.h"

namespace seedchip::explore {

/// How to run a sweep.
struct RunOptions {
  int jobs = 1;                 ///< worker threads (on rank 0 under MPI: besides the coordinator)
  std::string db = ":memory:";  ///< SQLite file (resumed when it exists)
  bool mpi = false;             ///< spread the points over MPI ranks (needs an MPI build)
  int64_t max_points = -1;      ///< evaluate at most this many new points, then stop (< 0: all)
  std::function<void(size_t done, size_t total)> progress;  ///< on rank 0, after each point
};

/// What a run left: every row of the database (not only this run's), the
/// Pareto front per workload, and counts.
struct SweepOutcome {
  size_t points = 0;      ///< design points of the sweep (baselines not counted)
  size_t evaluated = 0;   ///< evaluated by this run
  size_t resumed = 0;     ///< already in the database
  size_t invalid = 0;     ///< invalid design points (all rows)
  bool complete = false;  ///< every point and baseline is in the database
  bool is_root = true;    ///< false on MPI ranks other than 0 (they hold no results)
  std::vector<Row> rows;
  nlohmann::json rows_json;  ///< Store::rows_json: one object per row, same order as rows
  std::vector<std::pair<std::string, std::vector<int64_t>>> pareto;  ///< workload -> points
  /// The design with the lowest TCO per million tokens over all workloads
  /// (geometric mean of each workload's $/Mtok relative to its cheapest),
  /// among those meeting the SLOs on every workload; -1 when none does.
  int64_t best = -1;
  std::string best_name;
  double best_score = 0;  ///< that geometric mean (1: the cheapest on every workload)
};

/// Runs (or resumes) the sweep. Throws SweepError (a database of another
/// sweep, --mpi without MPI support, a sweep in which no design is valid).
SweepOutcome run_sweep(const Sweep& s, const RunOptions& o);

/// Whether this build can run sweeps under MPI.
bool mpi_available();
/// Ends MPI if a run started it (call once before exit; nothing otherwise).
void mpi_finalize();

/// A PointResult as JSON and back (how ranks send results to rank 0).
nlohmann::json point_to_json(const PointResult& r);
PointResult point_from_json(const nlohmann::json& j);

}  // namespace seedchip::explore
