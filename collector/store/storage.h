// Storage: the collector's persistent state — enrolled agents, the history of every check
// result and the latest state per (agent, check, target). SqliteStorage is the embedded
// implementation; a PostgreSQL one comes later, so the interface speaks in domain values and
// promises nothing SQLite-specific.
//
// Contracts every implementation keeps:
// - IngestBatch returns only once the batch is durable (committed per the store's durability
//   setting). It is idempotent on (agent_id, seq): a result already stored is counted as a
//   duplicate and not stored again. The latest state of (agent, check, target) moves only to a
//   result with a higher seq than the one it holds. Either the whole batch is stored or none
//   of it.
// - Errors: Unavailable when the store cannot write or read right now (disk full, I/O error,
//   shutting down) — the caller answers 503 and the agent retries; NotFound for an unknown
//   agent; InvalidArgument for arguments out of range.
// - Every method is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::collector {

struct AgentRecord {
  std::string agent_id;
  std::string token_sha256;  // lowercase hex SHA-256 of the agent token; the token is never kept
  protocol::HostInfo host;   // as enrolled, then as last reported
  int64_t enrolled_at_ms = 0;
  int64_t last_seen_ms = 0;  // received time of the newest batch; 0 = never reported
};

// The newest result of one (agent, check, target), or one row of history.
struct StoredResult {
  std::string agent_id;
  uint64_t seq = 0;
  std::string check;
  std::string target;
  protocol::CheckStatus status = protocol::CheckStatus::kUnknown;
  std::string summary;
  int64_t observed_at_ms = 0;
  int64_t duration_ms = 0;
  std::string metrics_json = "[]";  // JSON array of {name, labels, value, unit}
  std::string details_json = "{}";  // JSON object
  int64_t received_at_ms = 0;
};

struct HostSummary {
  AgentRecord agent;  // token_sha256 left empty
  // Number of (check, target) pairs per status, indexed by the Nagios value 0..3.
  std::array<int64_t, 4> status_counts{};
  // Worst latest status over the host's checks (critical > warning > unknown > ok); empty when
  // the host has not reported any result yet.
  std::optional<protocol::CheckStatus> worst_status;
};

struct HostPage {
  std::vector<HostSummary> items;  // ordered by hostname, then agent id
  int64_t total = 0;               // hosts in the store
};

struct HistoryQuery {
  std::string agent_id;
  std::optional<std::string> check;   // filter when set
  std::optional<std::string> target;  // filter when set ("" is a valid target)
  int64_t from_ms = INT64_MIN;        // observed_at >= from_ms
  int64_t to_ms = INT64_MAX;          // observed_at < to_ms
  uint64_t after_seq = 0;             // only seq > after_seq (paging cursor)
  int64_t limit = 1000;
};

// One gauge sample for steadfast_host_check_status.
struct CheckStatusSample {
  std::string hostname;
  std::string agent_id;
  std::string check;
  std::string target;
  protocol::CheckStatus status = protocol::CheckStatus::kUnknown;
  int64_t last_seen_ms = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // AlreadyExists if the agent id or token hash is taken.
  virtual Status CreateAgent(const AgentRecord& agent) = 0;
  // NotFound when no agent has that token hash.
  virtual StatusOr<AgentRecord> FindAgentByTokenHash(const std::string& token_sha256) = 0;

  // Stores a batch already validated by protocol::DecodeReportBatch (seqs strictly increasing)
  // for the agent batch.agent_id; see the contracts above. acked_through is the highest seq
  // of the batch (0 for an empty batch, which still counts as a sign of life).
  virtual StatusOr<protocol::ReportAck> IngestBatch(const protocol::ReportBatch& batch,
                                                    int64_t received_at_ms) = 0;

  // Hosts ordered by hostname then agent id; `limit` >= 1, `offset` >= 0. When `only` is set,
  // just the hosts with those agent ids (the caller's scope), and `total` counts only them.
  virtual StatusOr<HostPage> ListHosts(int64_t limit, int64_t offset,
                                       const std::optional<std::vector<std::string>>& only = std::nullopt) = 0;
  // NotFound for an unknown agent id.
  virtual StatusOr<HostSummary> GetHost(const std::string& agent_id) = 0;
  // Latest state of each (check, target) of the host, ordered by check then target.
  // NotFound for an unknown agent id.
  virtual StatusOr<std::vector<StoredResult>> ListHostChecks(const std::string& agent_id) = 0;
  // History rows ordered by seq ascending, at most query.limit of them.
  virtual StatusOr<std::vector<StoredResult>> History(const HistoryQuery& query) = 0;
  // Latest status of every (host, check, target), for the metrics gauge.
  virtual StatusOr<std::vector<CheckStatusSample>> AllCheckStatuses() = 0;

  // Deletes history rows received before `older_than_ms`; latest state is kept. Returns the
  // number of rows deleted.
  virtual StatusOr<int64_t> PruneHistory(int64_t older_than_ms) = 0;

  // OK when the store answers a query (for /readyz).
  virtual Status Ping() = 0;
};

}  // namespace steadfast::collector
