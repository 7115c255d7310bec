// seedchip — running a sweep over threads and MPI ranks (run.h).
#include "seedchip/explore/run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#ifdef SEEDCHIP_HAVE_MPI
#include <mpi.h>
#endif

#include "seedchip/explore/store.h"

namespace seedchip::explore {

nlohmann::json point_to_json(const PointResult& r) {
  nlohmann::json j;
  j["point"] = {{"index", r.point.index}, {"name", r.point.name}, {"values", r.point.values}, {"baseline", r.point.baseline}};
  j["valid"] = r.valid;
  j["reason"] = r.reason;
  j["chip_yaml"] = r.chip_yaml;
  j["design"] = r.design;
  for (const auto& w : r.workloads)
    j["workloads"].push_back({{"workload", w.workload}, {"status", w.status}, {"reason", w.reason}, {"tp", w.tp}, {"figures", w.figures}});
  return j;
}

PointResult point_from_json(const nlohmann::json& j) {
  PointResult r;
  r.point.index = j["point"]["index"];
  r.point.name = j["point"]["name"];
  r.point.values = j["point"]["values"].get<std::vector<std::string>>();
  r.point.baseline = j["point"]["baseline"];
  r.valid = j["valid"];
  r.reason = j["reason"];
  r.chip_yaml = j["chip_yaml"];
  r.design = j["design"].get<std::map<std::string, double>>();
  if (j.contains("workloads"))
    for (const auto& w : j["workloads"])
      r.workloads.push_back({w["workload"], w["status"], w["reason"], w["tp"], w["figures"].get<std::map<std::string, double>>()});
  return r;
}

bool mpi_available() {
#ifdef SEEDCHIP_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void mpi_finalize() {
#ifdef SEEDCHIP_HAVE_MPI
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Finalize();
#endif
}

namespace {

// The points a run still has to evaluate: design points then baselines, minus those done.
std::vector<DesignPoint> todo(const Sweep& s, const std::set<int64_t>& done, const RunOptions& o, size_t& resumed) {
  std::vector<DesignPoint> all = design_points(s);
  for (auto& b : baseline_points(s)) all.push_back(std::move(b));
  std::vector<DesignPoint> out;
  resumed = 0;
  for (auto& p : all) {
    if (done.count(p.index)) {
      ++resumed;
      continue;
    }
    out.push_back(std::move(p));
  }
  if (o.max_points >= 0 && static_cast<size_t>(o.max_points) < out.size()) out.resize(static_cast<size_t>(o.max_points));
  return out;
}

// Evaluates `points` on `jobs` threads; `sink` (called under a lock, in completion order) stores each result.
void run_local(const Sweep& s, const std::vector<DesignPoint>& points, int jobs, const std::function<void(const PointResult&)>& sink) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr failure;
  auto worker = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= points.size()) return;
      PointResult r = evaluate(s, points[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (failure) return;
      try {
        sink(r);
      } catch (...) {
        failure = std::current_exception();
        next = points.size();
      }
    }
  };
  const int n = std::max(1, std::min<int>(jobs, static_cast<int>(points.size())));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

#ifdef SEEDCHIP_HAVE_MPI
enum Tag : int { kRequest = 1, kTask = 2, kResult = 3 };

// Rank 0: hands out points to the other ranks (and to its own threads), stores every result.
void mpi_root(const Sweep& s, const std::vector<DesignPoint>& points, int jobs, int ranks,
              const std::function<void(const PointResult&)>& sink) {
  std::mutex mu;
  size_t next = 0;
  std::deque<PointResult> local_done;
  auto take = [&]() -> std::optional<size_t> {
    std::lock_guard<std::mutex> lock(mu);
    if (next >= points.size()) return std::nullopt;
    return next++;
  };
  std::atomic<int> local_running{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(0, jobs); ++t) {
    ++local_running;
    threads.emplace_back([&] {
      while (auto i = take()) {
        PointResult r = evaluate(s, points[*i]);
        std::lock_guard<std::mutex> lock(mu);
        local_done.push_back(std::move(r));
      }
      --local_running;
    });
  }
  int remote_active = ranks - 1;
  while (remote_active > 0 || local_running > 0 || !local_done.empty()) {
    bool idle = true;
    {
      std::unique_lock<std::mutex> lock(mu);
      while (!local_done.empty()) {
        PointResult r = std::move(local_done.front());
        local_done.pop_front();
        lock.unlock();
        sink(r);
        lock.lock();
        idle = false;
      }
    }
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag) {
      idle = false;
      if (st.MPI_TAG == kRequest) {
        int dummy = 0;
        MPI_Recv(&dummy, 1, MPI_INT, st.MPI_SOURCE, kRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        const auto i = take();
        long long task = i ? static_cast<long long>(*i) : -1;
        MPI_Send(&task, 1, MPI_LONG_LONG, st.MPI_SOURCE, kTask, MPI_COMM_WORLD);
        if (!i) --remote_active;
      } else if (st.MPI_TAG == kResult) {
        int len = 0;
        MPI_Get_count(&st, MPI_CHAR, &len);
        std::string buf(static_cast<size_t>(len), '\0');
        MPI_Recv(buf.data(), len, MPI_CHAR, st.MPI_SOURCE, kResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        sink(point_from_json(nlohmann::json::parse(buf)));
      }
    }
    if (idle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : threads) t.join();
}

// Other ranks: ask for a point, evaluate it, send the result, until told to stop.
void mpi_worker(const Sweep& s, const std::vector<DesignPoint>& points) {
  while (true) {
    int req = 0;
    MPI_Send(&req, 1, MPI_INT, 0, kRequest, MPI_COMM_WORLD);
    long long task = -1;
    MPI_Recv(&task, 1, MPI_LONG_LONG, 0, kTask, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (task < 0 || static_cast<size_t>(task) >= points.size()) return;
    const std::string buf = point_to_json(evaluate(s, points[static_cast<size_t>(task)])).dump();
    MPI_Send(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, 0, kResult, MPI_COMM_WORLD);
  }
}
#endif

}  // namespace

SweepOutcome run_sweep(const Sweep& s, const RunOptions& o) {
  SweepOutcome out;
  int rank = 0, ranks = 1;
  if (o.mpi) {
#ifdef SEEDCHIP_HAVE_MPI
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
#else
    throw SweepError("--mpi: this seedchip was built without MPI (install libopenmpi-dev and rebuild)");
#endif
  }
  std::optional<Store> store;
  std::vector<DesignPoint> points;
  size_t resumed = 0;
  std::string open_error;
  if (rank == 0) {
    try {
      store.emplace(o.db, s);
      points = todo(s, store->done(), o, resumed);
    } catch (const std::exception& e) {
      open_error = e.what();
    }
  }
#ifdef SEEDCHIP_HAVE_MPI
  if (o.mpi && ranks > 1) {
    // every rank learns which points are left (or that rank 0 could not start)
    std::string msg;
    if (rank == 0) {
      nlohmann::json j;
      j["error"] = open_error;
      for (const auto& p : points) j["points"].push_back({p.index});
      msg = j.dump();
    }
    long long len = static_cast<long long>(msg.size());
    MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    msg.resize(static_cast<size_t>(len));
    MPI_Bcast(msg.data(), static_cast<int>(len), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank != 0) {
      const auto j = nlohmann::json::parse(msg);
      open_error = j["error"];
      if (open_error.empty()) {
        std::set<int64_t> left;
        if (j.contains("points"))
          for (const auto& p : j["points"]) left.insert(p[0].get<int64_t>());
        std::vector<DesignPoint> all = design_points(s);
        for (auto& b : baseline_points(s)) all.push_back(std::move(b));
        for (auto& p : all)
          if (left.count(p.index)) points.push_back(std::move(p));
      }
    }
  }
#endif
  if (!open_error.empty()) throw SweepError(open_error);
  const size_t total = design_points(s).size();
  out.points = total;
  out.resumed = resumed;
  size_t finished = 0;
  auto sink = [&](const PointResult& r) {
    store->write(r);
    ++finished;
    if (o.progress) o.progress(finished + resumed, total + s.baselines.size());
  };
#ifdef SEEDCHIP_HAVE_MPI
  if (o.mpi && ranks > 1) {
    if (rank == 0) mpi_root(s, points, o.jobs - 1, ranks, sink);
    else mpi_worker(s, points);
  } else
#endif
  {
    run_local(s, points, o.jobs, sink);
  }
  if (rank != 0) {
    out.is_root = false;
    return out;
  }
  out.evaluated = finished;
  out.rows = store->rows();
  out.rows_json = store->rows_json();
  const auto done = store->done();
  out.complete = done.size() == total + s.baselines.size();
  std::set<int64_t> invalid_points;
  for (const auto& r : out.rows)
    if (r.status == "invalid") invalid_points.insert(r.point);
  out.invalid = invalid_points.size();
  for (const auto& w : s.workloads) {
    std::vector<int64_t> front;
    std::vector<Row> designs;
    for (const auto& r : out.rows)
      if (r.point >= 0) designs.push_back(r);
    for (size_t i : pareto_front(designs, w.name, default_objectives())) front.push_back(designs[i].point);
    out.pareto.emplace_back(w.name, front);
  }
  store->write_pareto(out.pareto);
  {
    std::map<std::string, double> cheapest;
    std::map<int64_t, std::pair<int, double>> score;  // point -> (workloads ok, sum of log ratios)
    std::map<int64_t, std::string> names;
    for (const auto& r : out.rows)
      if (r.point >= 0 && r.status == "ok") {
        const double v = r.figures.at("usd_per_million_tokens");
        auto it = cheapest.find(r.workload);
        if (it == cheapest.end() || v < it->second) cheapest[r.workload] = v;
      }
    for (const auto& r : out.rows)
      if (r.point >= 0 && r.status == "ok" && cheapest.at(r.workload) > 0) {
        auto& sc = score[r.point];
        sc.first++;
        sc.second += std::log(r.figures.at("usd_per_million_tokens") / cheapest.at(r.workload));
        names[r.point] = r.name;
      }
    for (const auto& [p, sc] : score)
      if (sc.first == static_cast<int>(s.workloads.size())) {
        const double g = std::exp(sc.second / static_cast<double>(sc.first));
        if (out.best < 0 || g < out.best_score) {
          out.best = p;
          out.best_score = g;
          out.best_name = names[p];
        }
      }
  }
  if (out.complete && out.invalid == total && total > 0)
    throw SweepError(fmt::format("{}: parameters: no valid design among the {} points (first reason: {})", s.source, total,
                                 [&] {
                                   for (const auto& r : out.rows_json)
                                     if (r["status"] == "invalid") return r["reason"].get<std::string>();
                                   return std::string();
                                 }()));
  return out;
}

}  // namespace seedchip::explore
