// Small helpers for the agent's unit tests (test targets only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>

#include "agent/check_registry.h"
#include "common/config/config_node.h"
#include "common/protocol/protocol.h"

namespace steadfast::agent::testing {

// A CheckSpec whose node is the YAML mapping `yaml` (file name "agent.yaml").
inline CheckSpec SpecFromYaml(const std::string& yaml) {
  auto doc = config::ConfigDocument::Parse(yaml, "agent.yaml");
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  CheckSpec spec;
  if (!doc.ok()) return spec;
  spec.node = doc->root();
  spec.name = spec.node["name"].String("test").value_or("test");
  spec.type = spec.node["type"].String("").value_or("");
  return spec;
}

inline std::optional<double> MetricValue(const protocol::CheckResult& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return m.value;
  }
  return std::nullopt;
}

inline const protocol::CheckResult* FindTarget(const std::vector<protocol::CheckResult>& results,
                                               const std::string& target) {
  for (const auto& r : results) {
    if (r.target == target) return &r;
  }
  return nullptr;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                       "/steadfast-agent-test-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace steadfast::agent::testing
