// YAML configuration read into validated structs. Every error names the file, the line and
// the key path: "agent.yaml:12: checks[2].interval: expected a duration like 30s, got 'often'".
//
// Usage: load a ConfigDocument, then read typed values through ConfigNode accessors; finish
// each mapping with CheckNoUnknownKeys so a typo ("intervall") is an error, not ignored.
// yaml-cpp stays inside config_node.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast::config {

class ConfigNode {
 public:
  ConfigNode();  // a missing node
  ~ConfigNode();
  ConfigNode(const ConfigNode&);
  ConfigNode& operator=(const ConfigNode&);

  bool present() const;  // false when the key was absent
  bool IsMap() const;
  bool IsList() const;
  const std::string& path() const;  // "checks[2].interval"
  int line() const;                 // 1-based; 0 when absent

  // Child of a mapping (absent child if the key is missing).
  ConfigNode operator[](const std::string& key) const;
  // Items of a sequence; error if present and not a sequence.
  StatusOr<std::vector<ConfigNode>> Items() const;
  // Keys of a mapping, in file order.
  StatusOr<std::vector<std::string>> Keys() const;

  // Typed reads. Absent -> the default. Wrong type or out of range -> InvalidArgument.
  StatusOr<std::string> String(const std::string& fallback = "") const;
  StatusOr<std::string> RequiredString() const;
  StatusOr<int64_t> Int(int64_t fallback, int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  StatusOr<double> Double(double fallback, double min = -1e300, double max = 1e300) const;
  StatusOr<bool> Bool(bool fallback) const;
  // "30s", "5m", "250ms", "1h", "2d" -> milliseconds; min/max in ms.
  StatusOr<int64_t> DurationMillis(int64_t fallback, int64_t min = 0, int64_t max = INT64_MAX) const;
  StatusOr<std::vector<std::string>> StringList() const;
  // A string that must be one of `allowed`.
  StatusOr<std::string> Enum(const std::vector<std::string>& allowed, const std::string& fallback) const;
  // InvalidArgument naming the first key not in `known`.
  Status CheckNoUnknownKeys(const std::vector<std::string>& known) const;

  // An InvalidArgument "file:line: path: message" for this node.
  Status Error(const std::string& message) const;

 private:
  friend class ConfigDocument;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ConfigDocument {
 public:
  // Parses YAML text; `file_name` is used in error messages. A syntax error is
  // InvalidArgument "file:line:col: message".
  static StatusOr<ConfigDocument> Parse(const std::string& text, const std::string& file_name);
  // Reads and parses a file (NotFound if missing).
  static StatusOr<ConfigDocument> Load(const std::string& path);
  const ConfigNode& root() const { return root_; }

 private:
  ConfigNode root_;
};

}  // namespace steadfast::config
