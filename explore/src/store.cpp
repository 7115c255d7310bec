// seedchip — sweep results in SQLite (store.h).
#include "seedchip/explore/store.h"

#include <map>

#include <fmt/format.h>
#include <sqlite3.h>

namespace seedchip::explore {

namespace {

std::string quote_id(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw SweepError(fmt::format("{}: SQLite: {} (in: {})", path, sqlite3_errmsg(db), sql.substr(0, 120)));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

const std::vector<std::string>& row_columns() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> c = design_figures();
    for (const char* w : {"served_tokens_per_s_per_chip", "served_tokens_per_s", "rate_qps", "ttft_p99_s", "tpot_p99_s",
                          "ttft_p50_s", "tpot_p50_s", "slo_attainment", "avg_power_w", "tokens_per_joule",
                          "tokens_per_s_per_usd", "tokens_per_s_per_mm2", "usd_per_million_tokens", "usd_per_chip_year",
                          "kv_peak_utilization", "preemptions", "chips"})
      c.emplace_back(w);
    return c;
  }();
  return k;
}

void Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw SweepError(fmt::format("{}: SQLite: {}", path_, msg));
  }
}

Store::Store(const std::string& path, const Sweep& s) : sweep_(s), path_(path), columns_(row_columns()) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw SweepError(fmt::format("{}: cannot open the sweep database: {}", path, msg));
  }
  try {
    sqlite3_busy_timeout(db_, 30000);
    exec("PRAGMA journal_mode=WAL");
    exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)");
    {
      Stmt q(db_, "SELECT value FROM meta WHERE key = 'fingerprint'", path_);
      if (sqlite3_step(q.get()) == SQLITE_ROW) {
        const std::string fp = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
        if (fp != s.fingerprint)
          throw SweepError(fmt::format("{}: holds the results of another sweep (fingerprint {}, this sweep {}): "
                                       "give another --db or delete the file",
                                       path, fp, s.fingerprint));
      }
    }
    std::string cols = "point INTEGER NOT NULL, name TEXT, baseline INTEGER, workload TEXT NOT NULL, status TEXT, reason TEXT, tp INTEGER";
    for (const auto& p : s.parameters) cols += ", " + quote_id("param:" + p.key);
    for (const auto& c : columns_) cols += ", " + quote_id(c) + " REAL";
    cols += ", chip_yaml TEXT, PRIMARY KEY (point, workload)";
    exec("BEGIN IMMEDIATE");
    exec(fmt::format("CREATE TABLE IF NOT EXISTS results ({})", cols));
    exec("CREATE TABLE IF NOT EXISTS pareto (workload TEXT, point INTEGER, PRIMARY KEY (workload, point))");
    for (const auto& [k, v] : {std::pair{"fingerprint", s.fingerprint}, {"sweep", s.name}, {"source", s.source}}) {
      Stmt m(db_, "INSERT OR REPLACE INTO meta VALUES (?, ?)", path_);
      sqlite3_bind_text(m.get(), 1, k, -1, SQLITE_STATIC);
      sqlite3_bind_text(m.get(), 2, v.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(m.get()) != SQLITE_DONE) throw SweepError(fmt::format("{}: SQLite: {}", path_, sqlite3_errmsg(db_)));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

std::set<int64_t> Store::done() const {
  std::set<int64_t> out;
  Stmt q(db_, "SELECT point, COUNT(*) FROM results GROUP BY point", path_);
  while (sqlite3_step(q.get()) == SQLITE_ROW)
    if (sqlite3_column_int64(q.get(), 1) == static_cast<int64_t>(sweep_.workloads.size()))
      out.insert(sqlite3_column_int64(q.get(), 0));
  return out;
}

void Store::write(const PointResult& r) {
  std::string sql = "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?";
  for (size_t i = 0; i < sweep_.parameters.size() + columns_.size() + 1; ++i) sql += ", ?";
  sql += ")";
  Stmt ins(db_, sql, path_);
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& w : r.workloads) {
      sqlite3_stmt* st = ins.get();
      sqlite3_reset(st);
      int i = 1;
      sqlite3_bind_int64(st, i++, r.point.index);
      sqlite3_bind_text(st, i++, r.point.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(st, i++, r.point.baseline ? 1 : 0);
      sqlite3_bind_text(st, i++, w.workload.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, i++, w.status.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, i++, w.reason.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, i++, w.tp);
      for (size_t k = 0; k < sweep_.parameters.size(); ++k) {
        if (r.point.baseline) {
          sqlite3_bind_null(st, i++);
          continue;
        }
        const std::string& v = r.point.values[k];
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (!v.empty() && end == v.c_str() + v.size()) sqlite3_bind_double(st, i++, d);
        else sqlite3_bind_text(st, i++, v.c_str(), -1, SQLITE_TRANSIENT);
      }
      for (const auto& c : columns_) {
        auto d = r.design.find(c);
        auto f = w.figures.find(c);
        if (d != r.design.end()) sqlite3_bind_double(st, i++, d->second);
        else if (f != w.figures.end()) sqlite3_bind_double(st, i++, f->second);
        else sqlite3_bind_null(st, i++);
      }
      sqlite3_bind_text(st, i++, r.chip_yaml.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) != SQLITE_DONE) throw SweepError(fmt::format("{}: SQLite: {}", path_, sqlite3_errmsg(db_)));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<Row> Store::rows() const {
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < sweep_.workloads.size(); ++i) order[sweep_.workloads[i].name] = i;
  std::string sql = "SELECT point, name, workload, status";
  for (const auto& c : columns_) sql += ", " + quote_id(c);
  sql += " FROM results";
  Stmt q(db_, sql, path_);
  std::vector<Row> out;
  while (sqlite3_step(q.get()) == SQLITE_ROW) {
    Row r;
    r.point = sqlite3_column_int64(q.get(), 0);
    r.name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1));
    r.workload = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 2));
    r.status = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 3));
    for (size_t k = 0; k < columns_.size(); ++k)
      if (sqlite3_column_type(q.get(), static_cast<int>(k) + 4) != SQLITE_NULL)
        r.figures[columns_[k]] = sqlite3_column_double(q.get(), static_cast<int>(k) + 4);
    out.push_back(std::move(r));
  }
  // baselines (negative) after the design points, each point's workloads in sweep order
  std::stable_sort(out.begin(), out.end(), [&](const Row& a, const Row& b) {
    const auto ka = std::tuple{a.point < 0, a.point < 0 ? -a.point : a.point, order[a.workload]};
    const auto kb = std::tuple{b.point < 0, b.point < 0 ? -b.point : b.point, order[b.workload]};
    return ka < kb;
  });
  return out;
}

nlohmann::json Store::rows_json() const {
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < sweep_.workloads.size(); ++i) order[sweep_.workloads[i].name] = i;
  std::string sql = "SELECT point, name, baseline, workload, status, reason, tp";
  for (const auto& p : sweep_.parameters) sql += ", " + quote_id("param:" + p.key);
  for (const auto& c : columns_) sql += ", " + quote_id(c);
  sql += " FROM results";
  Stmt q(db_, sql, path_);
  std::vector<std::pair<std::tuple<bool, int64_t, size_t>, nlohmann::json>> rows;
  auto text = [&](int col) {
    const auto* t = sqlite3_column_text(q.get(), col);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  while (sqlite3_step(q.get()) == SQLITE_ROW) {
    nlohmann::json j;
    const int64_t point = sqlite3_column_int64(q.get(), 0);
    j["point"] = point;
    j["name"] = text(1);
    j["baseline"] = sqlite3_column_int(q.get(), 2) != 0;
    j["workload"] = text(3);
    j["status"] = text(4);
    j["reason"] = text(5);
    j["tp"] = sqlite3_column_int64(q.get(), 6);
    int col = 7;
    nlohmann::json params = nlohmann::json::object();
    for (const auto& p : sweep_.parameters) {
      const int t = sqlite3_column_type(q.get(), col);
      if (t == SQLITE_FLOAT || t == SQLITE_INTEGER) params[p.key] = sqlite3_column_double(q.get(), col);
      else if (t == SQLITE_TEXT) params[p.key] = text(col);
      ++col;
    }
    j["parameters"] = params;
    for (const auto& c : columns_) {
      if (sqlite3_column_type(q.get(), col) != SQLITE_NULL) j[c] = sqlite3_column_double(q.get(), col);
      ++col;
    }
    const std::string w = j["workload"];
    rows.emplace_back(std::tuple{point < 0, point < 0 ? -point : point, order[w]}, std::move(j));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : rows) out.push_back(std::move(r.second));
  return out;
}

void Store::write_pareto(const std::vector<std::pair<std::string, std::vector<int64_t>>>& fronts) {
  exec("BEGIN IMMEDIATE");
  try {
    exec("DELETE FROM pareto");
    Stmt ins(db_, "INSERT INTO pareto VALUES (?, ?)", path_);
    for (const auto& [w, points] : fronts)
      for (const int64_t p : points) {
        sqlite3_reset(ins.get());
        sqlite3_bind_text(ins.get(), 1, w.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins.get(), 2, p);
        if (sqlite3_step(ins.get()) != SQLITE_DONE) throw SweepError(fmt::format("{}: SQLite: {}", path_, sqlite3_errmsg(db_)));
      }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace seedchip::explore
