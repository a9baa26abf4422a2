// The net-snmp implementation of SnmpClient (see snmp_client.h). This is the only file that
// includes net-snmp's headers: they define many macros and C names that must not leak.
//
// net-snmp keeps process-wide state (the session list, the USM user list, engine times, the
// default store), and Debian's build is not reentrant, so every use of the library happens under
// one process-wide lock: a session holds it from Open until it is destroyed.
//
// The library is loaded on first use (dlopen), not linked: libnetsnmp.so.40 needs
// libcrypto.so.3, and mapping the two costs every agent about 1.9 MB resident whether or not it
// has an snmp check (bench/agent_cycle.sh). So this file defines, with net-snmp's prototypes,
// the library functions it calls; each finds the real one in the loaded library on its first
// call. Open() loads the library first and reports a missing one as the check's error. The
// protocol OIDs (data, not functions) are looked up in the loaded library by LibraryOid().
#include <fmt/format.h>

#include <mutex>

#include "agent/checks/snmp_client.h"
#include "common/dl/lazy_library.h"

// clang-format off: net-snmp-config.h must come first.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
// clang-format on

namespace steadfast::agent {
namespace {

// Debian 12's libsnmp40 (net-snmp 5.9). The soname's number changes with net-snmp's ABI, as
// the package name does.
dl::LazyLibrary& LibNetSnmp() {
  static dl::LazyLibrary lib("libnetsnmp.so.40", "libsnmp40");
  return lib;
}

}  // namespace
}  // namespace steadfast::agent

#define SF_NETSNMP(ret, name, params, args) \
  SF_FORWARD_TO_LIBRARY(steadfast::agent::LibNetSnmp(), ret, name, params, args)

SF_NETSNMP(void, init_snmp, (const char* type), (type))
SF_NETSNMP(int, netsnmp_ds_set_boolean, (int storeid, int which, int value), (storeid, which, value))
SF_NETSNMP(int, netsnmp_ds_set_string, (int storeid, int which, const char* value),
           (storeid, which, value))
SF_NETSNMP(netsnmp_log_handler*, netsnmp_register_loghandler, (int type, int pri), (type, pri))
SF_NETSNMP(void, snmp_sess_init, (netsnmp_session * session), (session))
SF_NETSNMP(void*, snmp_sess_open, (netsnmp_session * session), (session))
SF_NETSNMP(netsnmp_session*, snmp_sess_session, (void* sessp), (sessp))
SF_NETSNMP(int, snmp_sess_close, (void* sessp), (sessp))
SF_NETSNMP(int, snmp_sess_synch_response, (void* sessp, netsnmp_pdu* pdu, netsnmp_pdu** response),
           (sessp, pdu, response))
SF_NETSNMP(void, snmp_sess_error, (void* sessp, int* clib_errorno, int* snmp_errorno, char** text),
           (sessp, clib_errorno, snmp_errorno, text))
SF_NETSNMP(void, snmp_error, (netsnmp_session * sess, int* clib_errorno, int* snmp_errorno,
                              char** text),
           (sess, clib_errorno, snmp_errorno, text))
SF_NETSNMP(const char*, snmp_errstring, (int snmp_errorno), (snmp_errorno))
SF_NETSNMP(netsnmp_pdu*, snmp_pdu_create, (int type), (type))
SF_NETSNMP(void, snmp_free_pdu, (netsnmp_pdu * pdu), (pdu))
SF_NETSNMP(netsnmp_variable_list*, snmp_add_null_var, (netsnmp_pdu * pdu, const oid* name,
                                                       size_t name_length),
           (pdu, name, name_length))
SF_NETSNMP(oid*, snmp_duplicate_objid, (const oid* objToCopy, size_t len), (objToCopy, len))
SF_NETSNMP(int, generate_Ku, (const oid* hashtype, u_int hashtype_len, const u_char* P,
                              size_t pplen, u_char* Ku, size_t* kulen),
           (hashtype, hashtype_len, P, pplen, Ku, kulen))
SF_NETSNMP(struct usmUser*, usm_get_user, (const u_char* engineID, size_t engineIDLen,
                                           const char* name),
           (engineID, engineIDLen, name))
SF_NETSNMP(struct usmUser*, usm_remove_user, (struct usmUser * user), (user))
SF_NETSNMP(struct usmUser*, usm_free_user, (struct usmUser * user), (user))

namespace steadfast::agent {
namespace {

using Clock = std::chrono::steady_clock;

// The lock around the library (see the file comment). A function-local static: the library it
// guards is itself process-global, so there is nothing to inject.
std::timed_mutex& LibraryMutex() {
  static std::timed_mutex mu;
  return mu;
}

// One-time library set-up, called with LibraryMutex held: no snmp.conf, no persistent files
// (/var/lib/snmp), no MIB directories (numeric OIDs only: MIB parsing costs memory and start-up
// time), no SIGALRM, no log output (errors come back through snmp_sess_error). Without any
// enabled log handler the library falls back to stderr, hence the "none" handler rather than
// snmp_disable_log().
void InitLibraryLocked() {
  static bool done = false;
  if (done) return;
  done = true;
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
  netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, "");
  netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
  init_snmp("steadfast-agent");
}

struct ProtoOid {
  const oid* arcs;
  size_t len;
};

// One of the library's protocol OIDs (usmHMACSHA1AuthProtocol...), which are data in the
// library. `len` comes from the header's array bound (sizeof, which does not reference the
// symbol).
ProtoOid LibraryOid(const char* name, size_t len) {
  return {static_cast<const oid*>(LibNetSnmp().Symbol(name)), len};
}
#define SF_LIBRARY_OID(name) LibraryOid(#name, OID_LENGTH(name))

ProtoOid AuthProto(SnmpTarget::AuthProtocol p) {
  switch (p) {
    case SnmpTarget::AuthProtocol::kMd5:
      return SF_LIBRARY_OID(usmHMACMD5AuthProtocol);
    case SnmpTarget::AuthProtocol::kSha1:
      return SF_LIBRARY_OID(usmHMACSHA1AuthProtocol);
    case SnmpTarget::AuthProtocol::kSha224:
      return SF_LIBRARY_OID(usmHMAC128SHA224AuthProtocol);
    case SnmpTarget::AuthProtocol::kSha256:
      return SF_LIBRARY_OID(usmHMAC192SHA256AuthProtocol);
    case SnmpTarget::AuthProtocol::kSha384:
      return SF_LIBRARY_OID(usmHMAC256SHA384AuthProtocol);
    case SnmpTarget::AuthProtocol::kSha512:
      return SF_LIBRARY_OID(usmHMAC384SHA512AuthProtocol);
  }
  return SF_LIBRARY_OID(usmHMACSHA1AuthProtocol);
}

ProtoOid PrivProto(SnmpTarget::PrivProtocol p) {
  switch (p) {
    case SnmpTarget::PrivProtocol::kDes:
      return SF_LIBRARY_OID(usmDESPrivProtocol);
    case SnmpTarget::PrivProtocol::kAes128:
      return SF_LIBRARY_OID(usmAESPrivProtocol);
    case SnmpTarget::PrivProtocol::kAes192:
      return SF_LIBRARY_OID(usmAES192PrivProtocol);
    case SnmpTarget::PrivProtocol::kAes256:
      return SF_LIBRARY_OID(usmAES256PrivProtocol);
    case SnmpTarget::PrivProtocol::kAes192Cisco:
      return SF_LIBRARY_OID(usmAES192CiscoPrivProtocol);
    case SnmpTarget::PrivProtocol::kAes256Cisco:
      return SF_LIBRARY_OID(usmAES256CiscoPrivProtocol);
  }
  return SF_LIBRARY_OID(usmAESPrivProtocol);
}

std::string PeerName(const SnmpTarget& t) {
  if (t.host.find(':') != std::string::npos) return fmt::format("udp6:[{}]:{}", t.host, t.port);
  return fmt::format("udp:{}:{}", t.host, t.port);
}

std::string PeerText(const SnmpTarget& t) {
  if (t.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", t.host, t.port);
  return fmt::format("{}:{}", t.host, t.port);
}

// A Status for a library error number (s_snmp_errno style) with `text` from the library.
Status LibraryError(int liberr, const std::string& text, const std::string& peer,
                    Clock::duration waited) {
  const double seconds = std::chrono::duration<double>(waited).count();
  switch (liberr) {
    case SNMPERR_TIMEOUT:
      return DeadlineExceededError(fmt::format(
          "no response from {} within {:.1f} s (agent down, wrong community or credentials, or "
          "filtered)",
          peer, seconds));
    case SNMPERR_AUTHENTICATION_FAILURE:
      return UnauthenticatedError(
          fmt::format("{}: authentication failure (wrong auth password or protocol)", peer));
    case SNMPERR_UNKNOWN_USER_NAME:
      return UnauthenticatedError(fmt::format("{}: the agent does not know this user", peer));
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
      return UnauthenticatedError(
          fmt::format("{}: the user does not support this security level", peer));
    case SNMPERR_DECRYPTION_ERR:
      return UnauthenticatedError(
          fmt::format("{}: decryption error (wrong privacy password or protocol)", peer));
    default:
      return UnavailableError(fmt::format("{}: {}", peer, text.empty() ? "SNMP error" : text));
  }
}

SnmpValue ConvertValue(const netsnmp_variable_list* vb) {
  SnmpValue v;
  switch (vb->type) {
    case ASN_INTEGER:
      v.type = SnmpValue::Type::kInteger;
      v.number = static_cast<double>(*vb->val.integer);
      v.text = std::to_string(*vb->val.integer);
      break;
    case ASN_GAUGE:  // == ASN_UNSIGNED
      v.type = SnmpValue::Type::kUnsigned;
      v.number = static_cast<double>(static_cast<uint32_t>(*vb->val.integer));
      v.text = std::to_string(static_cast<uint32_t>(*vb->val.integer));
      break;
    case ASN_COUNTER:
      v.type = SnmpValue::Type::kCounter32;
      v.number = static_cast<double>(static_cast<uint32_t>(*vb->val.integer));
      v.text = std::to_string(static_cast<uint32_t>(*vb->val.integer));
      break;
    case ASN_TIMETICKS:
      v.type = SnmpValue::Type::kTimeTicks;
      v.number = static_cast<double>(static_cast<uint32_t>(*vb->val.integer));
      v.text = std::to_string(static_cast<uint32_t>(*vb->val.integer));
      break;
    case ASN_COUNTER64: {
      v.type = SnmpValue::Type::kCounter64;
      const uint64_t n = (static_cast<uint64_t>(vb->val.counter64->high) << 32) |
                         static_cast<uint64_t>(vb->val.counter64->low & 0xffffffffu);
      v.number = static_cast<double>(n);
      v.text = std::to_string(n);
      break;
    }
    case ASN_OCTET_STR:
      v.type = SnmpValue::Type::kOctetString;
      v.text.assign(reinterpret_cast<const char*>(vb->val.string), vb->val_len);
      break;
    case ASN_IPADDRESS:
      v.type = SnmpValue::Type::kIpAddress;
      if (vb->val_len == 4) {
        v.text = fmt::format("{}.{}.{}.{}", vb->val.string[0], vb->val.string[1], vb->val.string[2],
                             vb->val.string[3]);
      }
      break;
    case ASN_OBJECT_ID: {
      v.type = SnmpValue::Type::kOid;
      Oid o(vb->val.objid, vb->val.objid + vb->val_len / sizeof(oid));
      v.text = FormatOid(o);
      break;
    }
    case SNMP_NOSUCHOBJECT:
      v.type = SnmpValue::Type::kNoSuchObject;
      v.text = "noSuchObject";
      break;
    case SNMP_NOSUCHINSTANCE:
      v.type = SnmpValue::Type::kNoSuchInstance;
      v.text = "noSuchInstance";
      break;
    case SNMP_ENDOFMIBVIEW:
      v.type = SnmpValue::Type::kEndOfMibView;
      v.text = "endOfMibView";
      break;
    case ASN_NULL:
      v.type = SnmpValue::Type::kNull;
      break;
    default:
      v.type = SnmpValue::Type::kOther;
      v.text = fmt::format("(ASN type 0x{:02x})", vb->type);
      break;
  }
  return v;
}

class NetSnmpSession final : public SnmpSession {
 public:
  NetSnmpSession(std::unique_lock<std::timed_mutex> lock, void* handle, SnmpTarget target,
                 Clock::time_point deadline)
      : lock_(std::move(lock)), handle_(handle), target_(std::move(target)), deadline_(deadline) {}

  ~NetSnmpSession() override {
    netsnmp_session* s = snmp_sess_session(handle_);
    // The USM user this session created stays in the library's global list and would be reused,
    // with its keys, by the next session for the same engine and user name; drop it so every
    // run authenticates with the credentials it was given.
    if (target_.version == SnmpTarget::Version::kV3 && s != nullptr && s->securityEngineIDLen > 0) {
      struct usmUser* user = usm_get_user(s->securityEngineID, s->securityEngineIDLen,
                                          const_cast<char*>(target_.username.c_str()));
      if (user != nullptr) {
        usm_remove_user(user);
        usm_free_user(user);
      }
    }
    snmp_sess_close(handle_);
  }

  StatusOr<std::vector<SnmpVarBind>> Get(const std::vector<Oid>& oids) override {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    for (const Oid& o : oids) {
      std::vector<oid> arcs(o.begin(), o.end());
      snmp_add_null_var(pdu, arcs.data(), arcs.size());
    }
    SF_ASSIGN_OR_RETURN(netsnmp_pdu * response, Exchange(pdu));
    std::vector<SnmpVarBind> out;
    for (netsnmp_variable_list* vb = response->variables; vb != nullptr; vb = vb->next_variable) {
      out.push_back({Oid(vb->name, vb->name + vb->name_length), ConvertValue(vb)});
    }
    snmp_free_pdu(response);
    if (out.size() != oids.size()) {
      return DataLossError(fmt::format("{}: {} values in the reply to a GET of {}",
                                       PeerText(target_), out.size(), oids.size()));
    }
    return out;
  }

  StatusOr<std::vector<SnmpVarBind>> Walk(const Oid& root, size_t max_rows) override {
    std::vector<SnmpVarBind> out;
    Oid cursor = root;
    while (true) {
      netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
      pdu->non_repeaters = 0;
      pdu->max_repetitions = 25;
      std::vector<oid> arcs(cursor.begin(), cursor.end());
      snmp_add_null_var(pdu, arcs.data(), arcs.size());
      SF_ASSIGN_OR_RETURN(netsnmp_pdu * response, Exchange(pdu));
      bool done = response->variables == nullptr;
      for (netsnmp_variable_list* vb = response->variables; vb != nullptr; vb = vb->next_variable) {
        Oid name(vb->name, vb->name + vb->name_length);
        if (vb->type == SNMP_ENDOFMIBVIEW || !OidIsBelow(name, root)) {
          done = true;
          break;
        }
        // An agent that does not move forward would loop us until the deadline.
        if (!std::lexicographical_compare(cursor.begin(), cursor.end(), name.begin(), name.end())) {
          snmp_free_pdu(response);
          return DataLossError(fmt::format("{}: the agent's walk below {} went backwards at {}",
                                           PeerText(target_), FormatOid(root), FormatOid(name)));
        }
        if (out.size() >= max_rows) {
          snmp_free_pdu(response);
          return ResourceExhaustedError(fmt::format("{}: more than {} objects below {}",
                                                    PeerText(target_), max_rows, FormatOid(root)));
        }
        cursor = name;
        out.push_back({std::move(name), ConvertValue(vb)});
      }
      snmp_free_pdu(response);
      if (done) return out;
    }
  }

 private:
  // Sends `pdu` (consumed) and returns the response (the caller frees it), or the error.
  StatusOr<netsnmp_pdu*> Exchange(netsnmp_pdu* pdu) {
    const auto start = Clock::now();
    const auto left = deadline_ - start;
    if (left <= Clock::duration::zero()) {
      snmp_free_pdu(pdu);
      return DeadlineExceededError(
          fmt::format("{}: the check's time ran out before the request", PeerText(target_)));
    }
    netsnmp_session* s = snmp_sess_session(handle_);
    const auto per_try =
        std::chrono::duration_cast<std::chrono::microseconds>(left) / (target_.retries + 1);
    s->timeout = std::max<long>(static_cast<long>(per_try.count()), 1'000);
    s->retries = target_.retries;
    netsnmp_pdu* response = nullptr;
    int rc = snmp_sess_synch_response(handle_, pdu, &response);  // frees `pdu`
    if (rc == STAT_SUCCESS && response != nullptr) {
      if (response->errstat == SNMP_ERR_NOERROR) return response;
      Status st = FailedPreconditionError(
          fmt::format("{}: the agent answered {} (index {})", PeerText(target_),
                      snmp_errstring(static_cast<int>(response->errstat)), response->errindex));
      snmp_free_pdu(response);
      return st;
    }
    if (response != nullptr) snmp_free_pdu(response);
    if (rc == STAT_TIMEOUT) {
      return LibraryError(SNMPERR_TIMEOUT, "", PeerText(target_), Clock::now() - start);
    }
    int liberr = 0, syserr = 0;
    char* text = nullptr;
    snmp_sess_error(handle_, &syserr, &liberr, &text);
    std::string message = text != nullptr ? text : "";
    free(text);  // allocated by the library with malloc
    return LibraryError(liberr, message, PeerText(target_), Clock::now() - start);
  }

  std::unique_lock<std::timed_mutex> lock_;
  void* handle_;
  SnmpTarget target_;
  Clock::time_point deadline_;
};

class NetSnmpClient final : public SnmpClient {
 public:
  StatusOr<std::unique_ptr<SnmpSession>> Open(const SnmpTarget& t,
                                              Clock::time_point deadline) override {
    std::unique_lock<std::timed_mutex> lock(LibraryMutex(), std::defer_lock);
    if (!lock.try_lock_until(deadline)) {
      return DeadlineExceededError(
          "another SNMP query held the SNMP library until this check's time ran out");
    }
    if (const Status& loaded = LibNetSnmp().Load(); !loaded.ok()) {
      return loaded.WithContext("snmp check");
    }
    InitLibraryLocked();
    const auto start = Clock::now();
    if (deadline <= start) {
      return DeadlineExceededError("the check's time ran out before the SNMP session opened");
    }

    netsnmp_session s;
    snmp_sess_init(&s);
    std::string peername = PeerName(t);
    s.peername = peername.data();
    const auto per_try =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - start) / (t.retries + 1);
    s.timeout = std::max<long>(static_cast<long>(per_try.count()), 1'000);
    s.retries = t.retries;
    // Strings the library copies during snmp_sess_open; they only have to outlive the call.
    std::string community = t.community;
    std::string username = t.username;
    std::string context = t.context;
    if (t.version == SnmpTarget::Version::kV2c) {
      s.version = SNMP_VERSION_2c;
      s.community = reinterpret_cast<u_char*>(community.data());
      s.community_len = community.size();
    } else {
      s.version = SNMP_VERSION_3;
      s.securityName = username.data();
      s.securityNameLen = username.size();
      s.contextName = context.data();
      s.contextNameLen = context.size();
      switch (t.security_level) {
        case SnmpTarget::SecurityLevel::kNoAuthNoPriv:
          s.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
          break;
        case SnmpTarget::SecurityLevel::kAuthNoPriv:
          s.securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
          break;
        case SnmpTarget::SecurityLevel::kAuthPriv:
          s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
          break;
      }
      if (t.security_level != SnmpTarget::SecurityLevel::kNoAuthNoPriv) {
        ProtoOid auth = AuthProto(t.auth_protocol);
        s.securityAuthProto = snmp_duplicate_objid(auth.arcs, auth.len);
        s.securityAuthProtoLen = auth.len;
        s.securityAuthKeyLen = USM_AUTH_KU_LEN;
        if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                        reinterpret_cast<const u_char*>(t.auth_password.data()),
                        t.auth_password.size(), s.securityAuthKey,
                        &s.securityAuthKeyLen) != SNMPERR_SUCCESS) {
          SNMP_FREE(s.securityAuthProto);
          return InvalidArgumentError(
              "cannot derive the SNMPv3 auth key (the password must have at least 8 characters)");
        }
      }
      if (t.security_level == SnmpTarget::SecurityLevel::kAuthPriv) {
        ProtoOid priv = PrivProto(t.priv_protocol);
        s.securityPrivProto = snmp_duplicate_objid(priv.arcs, priv.len);
        s.securityPrivProtoLen = priv.len;
        s.securityPrivKeyLen = USM_PRIV_KU_LEN;
        if (generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                        reinterpret_cast<const u_char*>(t.priv_password.data()),
                        t.priv_password.size(), s.securityPrivKey,
                        &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
          SNMP_FREE(s.securityAuthProto);
          SNMP_FREE(s.securityPrivProto);
          return InvalidArgumentError(
              "cannot derive the SNMPv3 privacy key (the password must have at least 8 "
              "characters)");
        }
      }
    }
    void* handle = snmp_sess_open(&s);
    // snmp_sess_open copied the session; our copies of the protocol OIDs are ours to free.
    SNMP_FREE(s.securityAuthProto);
    SNMP_FREE(s.securityPrivProto);
    // The keys derived from the passwords are no longer needed in this stack frame.
    std::fill(std::begin(s.securityAuthKey), std::end(s.securityAuthKey), 0);
    std::fill(std::begin(s.securityPrivKey), std::end(s.securityPrivKey), 0);
    if (handle == nullptr) {
      int liberr = 0, syserr = 0;
      char* text = nullptr;
      snmp_error(&s, &syserr, &liberr, &text);
      std::string message = text != nullptr ? text : "";
      free(text);
      return LibraryError(liberr, message, PeerText(t), Clock::now() - start);
    }
    return std::unique_ptr<SnmpSession>(
        std::make_unique<NetSnmpSession>(std::move(lock), handle, t, deadline));
  }
};

}  // namespace

std::unique_ptr<SnmpClient> NewNetSnmpClient() { return std::make_unique<NetSnmpClient>(); }

}  // namespace steadfast::agent
