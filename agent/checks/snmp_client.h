// SnmpClient: SNMP GET and WALK against one agent (v2c, or v3 with USM). The snmp check talks
// to this interface; NewNetSnmpClient() is the implementation on the net-snmp library
// (net_snmp_client.cc is the only file that includes net-snmp's headers), tests use a fake.
//
// Thread-safety: Open may be called from any thread; a session belongs to one caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::agent {

// An object identifier, one number per arc: {1, 3, 6, 1, 2, 1, 1, 3, 0}.
using Oid = std::vector<uint32_t>;

// Parses "1.3.6.1.2.1.1.3.0" (a leading dot is allowed). InvalidArgument on anything else
// (symbolic names are not supported: the agent loads no MIBs).
StatusOr<Oid> ParseOid(std::string_view text);
// "1.3.6.1.2.1.1.3.0".
std::string FormatOid(const Oid& oid);
// True when `oid` lies strictly below `root`.
bool OidIsBelow(const Oid& oid, const Oid& root);

struct SnmpValue {
  enum class Type {
    kInteger,   // INTEGER / Integer32 (enumerations too)
    kUnsigned,  // Gauge32 / Unsigned32
    kCounter32,
    kCounter64,
    kTimeTicks,  // hundredths of a second
    kOctetString,
    kOid,
    kIpAddress,
    kNull,
    kNoSuchObject,
    kNoSuchInstance,
    kEndOfMibView,
    kOther,
  };
  Type type = Type::kNull;
  std::optional<double> number;  // the numeric types (Counter64 loses precision above 2^53)
  std::string text;  // octet strings as is; other types rendered ("1.3.6.1", "10.0.0.1", "42")

  // noSuchObject, noSuchInstance, endOfMibView, null.
  bool Missing() const {
    return type == Type::kNoSuchObject || type == Type::kNoSuchInstance ||
           type == Type::kEndOfMibView || type == Type::kNull;
  }
};

struct SnmpVarBind {
  Oid oid;
  SnmpValue value;
};

// Where and how to ask. Secrets (community, passwords) are only ever held here, in memory.
struct SnmpTarget {
  enum class Version { kV2c, kV3 };
  enum class SecurityLevel { kNoAuthNoPriv, kAuthNoPriv, kAuthPriv };
  enum class AuthProtocol { kMd5, kSha1, kSha224, kSha256, kSha384, kSha512 };
  // kAes192/kAes256: Blumenthal key extension (RFC draft, net-snmp "AES-192");
  // kAes192Cisco/kAes256Cisco: Reeder key extension (Cisco, net-snmp "AES-192-C").
  enum class PrivProtocol { kDes, kAes128, kAes192, kAes256, kAes192Cisco, kAes256Cisco };

  std::string host;
  uint16_t port = 161;
  Version version = Version::kV2c;
  std::string community = "public";
  std::string username;
  SecurityLevel security_level = SecurityLevel::kAuthPriv;
  AuthProtocol auth_protocol = AuthProtocol::kSha1;
  std::string auth_password;
  PrivProtocol priv_protocol = PrivProtocol::kAes128;
  std::string priv_password;
  std::string context;
  int retries = 1;
};

// One open session. Each request is bounded by the session's deadline: its timeout is the time
// left divided by (retries + 1).
//
// Errors: DeadlineExceeded "no response from <peer> within <t>" (agent down, wrong community,
// filtered), Unauthenticated (v3: wrong password, unknown user, unsupported security level),
// FailedPrecondition for an SNMP error-status in the response ("noSuchName", "authorizationError"),
// Unavailable for transport errors, DataLoss for a walk that does not advance.
class SnmpSession {
 public:
  virtual ~SnmpSession() = default;
  // One GET with every oid; the reply has one varbind per oid, in order (missing objects come
  // back as noSuchObject / noSuchInstance values, not as errors).
  virtual StatusOr<std::vector<SnmpVarBind>> Get(const std::vector<Oid>& oids) = 0;
  // Every object below `root` in order (GETBULK), at most `max_rows` (ResourceExhausted beyond).
  virtual StatusOr<std::vector<SnmpVarBind>> Walk(const Oid& root, size_t max_rows) = 0;
};

class SnmpClient {
 public:
  virtual ~SnmpClient() = default;
  // Opens a session (for v3 this discovers the agent's engine id: one exchange). All requests of
  // the session must finish by `deadline`.
  virtual StatusOr<std::unique_ptr<SnmpSession>> Open(
      const SnmpTarget& target, std::chrono::steady_clock::time_point deadline) = 0;
};

// The net-snmp implementation. The library is not reentrant (Debian builds it without
// --enable-reentrant), so sessions are serialised process-wide: Open waits for the previous
// session to close, but never past `deadline` (then DeadlineExceeded "another SNMP query ...").
// The library is initialised on first use without reading snmp.conf, loading MIBs or writing
// persistent state.
std::unique_ptr<SnmpClient> NewNetSnmpClient();

}  // namespace steadfast::agent
