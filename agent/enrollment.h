// Enrolment: how an agent gets its identity. On first start there is no
// <state_dir>/agent.token; the agent POSTs /api/v1/enroll with the enrolment token from its
// config and its host info, and stores the answer ({agent_id, agent_token, collector_url} as
// JSON, mode 0600, written atomically) so later starts just read it.
//
// Thread-safe as long as the FileSystem and HttpClient are (they are).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/fs/file_system.h"
#include "common/http/http_client.h"
#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::agent {

struct AgentIdentity {
  std::string agent_id;
  std::string agent_token;
  std::string collector_url;  // the collector that issued the token
  friend bool operator==(const AgentIdentity&, const AgentIdentity&) = default;
};

inline constexpr char kIdentityFileName[] = "agent.token";
std::string IdentityPath(const std::string& state_dir);

// nullopt when the file does not exist. DataLoss when it exists but is not a valid identity
// (an admin should look: deleting it makes the agent enrol again as a new agent).
StatusOr<std::optional<AgentIdentity>> LoadIdentity(FileSystem& fs, const std::string& state_dir);
// Writes the identity with mode 0600 (WriteFileAtomic).
Status SaveIdentity(FileSystem& fs, const std::string& state_dir, const AgentIdentity& identity);

struct EnrollOptions {
  std::string collector_url;
  std::string enrollment_token;
  protocol::HostInfo host;
  std::chrono::milliseconds timeout{10'000};
};

// One POST /api/v1/enroll. Errors: Unauthenticated (401: the collector does not know the
// enrolment token), Unavailable / DeadlineExceeded (transport, 5xx, 429: retry later),
// InvalidArgument (other answers, or a 200 whose body does not decode).
StatusOr<AgentIdentity> Enroll(http::HttpClient& client, const EnrollOptions& options);

// Reads the stored identity or, when there is none, enrols and stores the new one.
// FailedPrecondition when there is no identity and options.enrollment_token is empty.
StatusOr<AgentIdentity> LoadOrEnroll(FileSystem& fs, http::HttpClient& client,
                                     const std::string& state_dir, const EnrollOptions& options);

}  // namespace steadfast::agent
