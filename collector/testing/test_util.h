// Helpers shared by the collector's tests (test targets only).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/protocol/protocol.h"

namespace steadfast::collector::testutil {

// Writes `text` to `path` (truncating); false when it cannot.
inline bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path().string() + "/sf-collector-test-XXXXXX";
    std::vector<char> buf(base.begin(), base.end());
    buf.push_back('\0');
    char* made = ::mkdtemp(buf.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline protocol::HostInfo Host(const std::string& hostname) {
  protocol::HostInfo h;
  h.hostname = hostname;
  h.os = "Debian GNU/Linux 12 (bookworm)";
  h.kernel = "6.1.0-18-amd64";
  h.arch = "x86_64";
  h.agent_version = "0.1.0";
  return h;
}

inline protocol::CheckResult Result(const std::string& check, const std::string& target,
                                    protocol::CheckStatus status, int64_t observed_at_ms) {
  protocol::CheckResult r;
  r.check = check;
  r.target = target;
  r.status = status;
  r.summary = check + " on " + target + " is " + std::string(protocol::CheckStatusName(status));
  r.observed_at_ms = observed_at_ms;
  r.duration_ms = 3;
  r.metrics.push_back({"filesystem_used_ratio", {{"mountpoint", target}}, 0.5, "ratio"});
  r.details_json = R"({"fstype":"ext4"})";
  return r;
}

// A batch for `agent_id` with one result per seq, all for (check, target).
inline protocol::ReportBatch Batch(const std::string& agent_id, const std::vector<uint64_t>& seqs,
                                   const std::string& check = "root-fs", const std::string& target = "/",
                                   protocol::CheckStatus status = protocol::CheckStatus::kOk,
                                   int64_t observed_base_ms = 1'790'000'000'000) {
  protocol::ReportBatch b;
  b.agent_id = agent_id;
  b.sent_at_ms = observed_base_ms;
  b.host = Host("srv-01");
  for (uint64_t seq : seqs) {
    protocol::ReportEntry e;
    e.seq = seq;
    e.result = Result(check, target, status, observed_base_ms + static_cast<int64_t>(seq));
    b.results.push_back(std::move(e));
  }
  return b;
}

}  // namespace steadfast::collector::testutil
