// Small helpers for the agent's unit tests (test targets only).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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

// A TCP socket bound to a free loopback port: listening (connections are accepted into the
// backlog and never answered) or not (connections are refused with RST).
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen, int backlog = 16) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, backlog), 0);
    }
  }
  ~LoopbackSocket() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// The commented check examples of an agent.yaml: each "  # - name: ..." line and the
// "  #   ..." lines after it, uncommented once (nested "#   # key:" lines stay comments).
inline std::vector<std::string> CommentedCheckExamples(const std::string& yaml) {
  std::vector<std::string> blocks;
  std::istringstream in(yaml);
  std::string line;
  bool open = false;
  while (std::getline(in, line)) {
    if (line.rfind("  # - ", 0) == 0) {
      blocks.push_back("  " + line.substr(4) + "\n");
      open = true;
    } else if (open && line.rfind("  #   ", 0) == 0) {
      blocks.back() += "  " + line.substr(4) + "\n";
    } else {
      open = false;
    }
  }
  return blocks;
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
