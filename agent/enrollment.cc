#include "agent/enrollment.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace steadfast::agent {
namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string IdentityPath(const std::string& state_dir) {
  return TrimSlash(state_dir) + "/" + kIdentityFileName;
}

StatusOr<std::optional<AgentIdentity>> LoadIdentity(FileSystem& fs, const std::string& state_dir) {
  const std::string path = IdentityPath(state_dir);
  auto text = fs.ReadFile(path, 64 << 10);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<AgentIdentity>();
    return text.status();
  }
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto field = [&j](const char* key) -> std::string {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
    return j[key].get<std::string>();
  };
  AgentIdentity id{field("agent_id"), field("agent_token"), field("collector_url")};
  if (id.agent_id.empty() || id.agent_token.empty()) {
    return DataLossError(path +
                         ": not a valid agent identity (expected JSON with agent_id and "
                         "agent_token); delete it to enrol this host again as a new agent");
  }
  return std::optional<AgentIdentity>(std::move(id));
}

Status SaveIdentity(FileSystem& fs, const std::string& state_dir, const AgentIdentity& identity) {
  nlohmann::json j = {{"agent_id", identity.agent_id},
                      {"agent_token", identity.agent_token},
                      {"collector_url", identity.collector_url}};
  return fs.WriteFileAtomic(IdentityPath(state_dir), j.dump(2) + "\n", 0600);
}

StatusOr<AgentIdentity> Enroll(http::HttpClient& client, const EnrollOptions& options) {
  protocol::EnrollRequest body;
  body.enrollment_token = options.enrollment_token;
  body.host = options.host;
  http::HttpClientRequest req;
  req.method = "POST";
  req.url = TrimSlash(options.collector_url) + "/api/v1/enroll";
  req.timeout = options.timeout;
  req.headers.Set("Content-Type", "application/json");
  req.body = protocol::EncodeEnrollRequest(body);
  SF_ASSIGN_OR_RETURN(http::HttpResponse resp, client.Do(req));
  if (resp.status == 200) {
    auto decoded = protocol::DecodeEnrollResponse(resp.body);
    if (!decoded.ok()) {
      return InvalidArgumentError("enrol: the collector's answer does not decode: " +
                                  decoded.status().message());
    }
    return AgentIdentity{decoded->agent_id, decoded->agent_token, TrimSlash(options.collector_url)};
  }
  std::string what = fmt::format("enrol at {}: collector answered {}", req.url, resp.status);
  if (resp.status == 401) {
    return UnauthenticatedError(what + ": the enrolment token is not accepted by the collector");
  }
  if (resp.status >= 500 || resp.status == 429 || resp.status == 408) {
    return UnavailableError(what);
  }
  return InvalidArgumentError(what + ": " + resp.body.substr(0, 200));
}

StatusOr<AgentIdentity> LoadOrEnroll(FileSystem& fs, http::HttpClient& client,
                                     const std::string& state_dir, const EnrollOptions& options) {
  SF_ASSIGN_OR_RETURN(std::optional<AgentIdentity> stored, LoadIdentity(fs, state_dir));
  if (stored) return *stored;
  if (options.enrollment_token.empty()) {
    return FailedPreconditionError(
        fmt::format("{} does not exist and no enrollment_token is configured: set "
                    "enrollment_token (or enrollment_token_file) so this agent can enrol",
                    IdentityPath(state_dir)));
  }
  SF_ASSIGN_OR_RETURN(AgentIdentity id, Enroll(client, options));
  SF_RETURN_IF_ERROR(SaveIdentity(fs, state_dir, id).WithContext("store the agent identity"));
  SF_LOG_INFO("enrolled with {} as agent {}", id.collector_url, id.agent_id);
  return id;
}

}  // namespace steadfast::agent
