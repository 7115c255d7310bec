// seedchip — `seedchip explore SWEEP.yaml`: design-space sweeps with SQLite
// results, Pareto fronts and the report (docs/explore.md).
#pragma once

#include <string>

namespace seedchip::cli {

/// Arguments of `seedchip explore`.
struct ExploreArgs {
  std::string sweep, db, report;
  int jobs = 1;
  bool json = false, mpi = false;
  int64_t max_points = -1;
  int top = 5;
};
int cmd_explore(const ExploreArgs& a);

}  // namespace seedchip::cli
