// seedchip — a small strict, typed reader over yaml-cpp nodes (internal).
//
// Every value read carries its source name, its dotted key path and the
// position of its key, so each validation failure becomes one ChipError line
// `FILE:LINE:COLUMN: KEY.PATH: reason`. Maps are opened with the list of keys
// they may hold: unknown and duplicate keys are rejected up front, before any
// missing-key error, because a misspelt key explains the missing one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seedchip::arch::detail {

/// Throws ChipError `source[:line:col]: path: reason` (path omitted if empty;
/// position omitted if `mark` is null).
[[noreturn]] void throw_error(const std::string& source, const YAML::Mark& mark,
                              const std::string& path, const std::string& reason);

/// An allowed interval of real numbers, for Field::as_number.
struct NumberRange {
  double lo;             ///< lower bound
  bool lo_open;          ///< true: value > lo; false: value >= lo
  double hi;             ///< upper bound
  bool hi_open = false;  ///< true: value < hi; false: value <= hi

  /// "(0, 1]"-style text for error messages.
  std::string describe() const;
};

class MapReader;

/// One value in the document with where it came from.
class Field {
 public:
  /// Wraps `node` found at `path`, its key at `mark`.
  Field(const std::string* source, std::string path, YAML::Node node, YAML::Mark mark);

  /// Dotted key path, e.g. "core.matrix.rows".
  const std::string& path() const { return path_; }
  /// Position of the key (or of the node for the document root).
  const YAML::Mark& mark() const { return mark_; }
  /// The underlying node.
  const YAML::Node& node() const { return node_; }
  /// Name of the file (or "builtin:NAME") for error messages.
  const std::string& source() const { return *source_; }

  /// An unquoted decimal integer in [min, max] (rejects 1.5, -3, 1e30, "7").
  uint64_t as_uint(uint64_t min, uint64_t max) const;
  /// An unquoted finite decimal number (YAML float or int syntax) within `range`.
  double as_number(const NumberRange& range) const;
  /// A scalar (quoted or not), not null.
  std::string as_string() const;
  /// A map whose keys must all be in `allowed`.
  MapReader as_map(std::vector<std::string_view> allowed) const;
  /// A map with any (unique, scalar) keys; the caller validates them.
  MapReader as_open_map() const;

  /// Throws ChipError for this field with `reason`.
  [[noreturn]] void fail(const std::string& reason) const;
  /// "got '0'", "got a list", ... describing the value for error messages.
  std::string got() const;

 private:
  const std::string* source_;
  std::string path_;
  YAML::Node node_;
  YAML::Mark mark_;
};

/// While set (non-null), every MapReader records the keys it allows under its
/// path ("*" for an open map): how arch::chip_schema learns the schema from
/// the loader itself instead of a second copy of it.
using SchemaLog = std::map<std::string, std::vector<std::string>>;
extern thread_local SchemaLog* schema_log;

/// The entries of one YAML map, looked up by key with path tracking.
class MapReader {
 public:
  /// Reads the map `field`; `allowed` empty with `open` true accepts any key.
  MapReader(const Field& field, std::vector<std::string_view> allowed, bool open);

  /// The value of a required key (which must be in the allowed list).
  Field required(std::string_view key) const;
  /// The value of an optional key, or nullopt when absent.
  std::optional<Field> optional(std::string_view key) const;
  /// All entries in document order (for open maps such as dtype -> rate).
  const std::vector<Field>& entries() const { return entries_; }
  /// Number of entries.
  std::size_t size() const { return entries_.size(); }

 private:
  const Field* find(std::string_view key) const;

  Field self_;
  std::vector<std::string_view> allowed_;
  std::vector<std::string> keys_;  // parallel to entries_
  std::vector<Field> entries_;
};

}  // namespace seedchip::arch::detail
