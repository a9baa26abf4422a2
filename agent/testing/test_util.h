// Small helpers for the agent's unit tests (test targets only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
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

#ifdef SF_AGENT_TESTDATA_DIR
// The bytes of agent/checks/testdata/<relative> (a failed test, and "", when it is missing).
inline std::string Testdata(const std::string& relative) {
  std::ifstream in(std::string(SF_AGENT_TESTDATA_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << "testdata/" << relative;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Copies the tree agent/checks/testdata/<relative> (symlinks kept as links) to `dest`, for a
// test that changes files of a /sys or /proc fixture.
inline void CopyTestdataTree(const std::string& relative, const std::string& dest) {
  std::filesystem::copy(
      std::string(SF_AGENT_TESTDATA_DIR) + "/" + relative, dest,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
}
#endif

inline std::optional<double> MetricValue(const protocol::CheckResult& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return m.value;
  }
  return std::nullopt;
}

// The value of the metric `name` whose label `label` is `value`.
inline std::optional<double> LabelledMetricValue(const protocol::CheckResult& r,
                                                 const std::string& name, const std::string& label,
                                                 const std::string& value) {
  for (const auto& m : r.metrics) {
    auto it = m.labels.find(label);
    if (m.name == name && it != m.labels.end() && it->second == value) return m.value;
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
