// OpenLdapDirectory against a real OpenLDAP server: each test starts its own slapd
// (/usr/sbin/slapd, Debian package slapd) on a free loopback port, from a fresh temporary
// directory holding its config (slapd.conf, mdb backend) and database (loaded with slapadd), and
// stops it in TearDown. The conformance suite runs in template and in search mode; the tests
// below it cover what only a real server shows (anonymous binds, timeouts, TLS, a refused
// service account). Skipped, with the reason, when slapd is not installed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ldap.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collector/auth/ldap_directory_conformance.h"
#include "collector/auth/open_ldap_directory.h"
#include "common/fs/file_system.h"
#include "tests/support/process.h"

namespace steadfast::collector::auth::testing {
namespace {

using std::chrono::milliseconds;
using testsupport::Process;
using testsupport::TempDir;

constexpr char kSlapd[] = "/usr/sbin/slapd";
constexpr char kSlapadd[] = "/usr/sbin/slapadd";
constexpr char kSchemaDir[] = "/etc/ldap/schema";
constexpr char kModuleDir[] = "/usr/lib/ldap";
constexpr char kServiceDn[] = "cn=steadfast,dc=example,dc=org";
constexpr char kServicePassword[] = "Service-Secret-9";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool PortAnswers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string ConformanceLdif() {
  std::string ldif =
      "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: "
      "example\n\n"
      "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n"
      "dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n"
      "dn: cn=steadfast,dc=example,dc=org\nobjectClass: organizationalRole\nobjectClass: "
      "simpleSecurityObject\n"
      "cn: steadfast\nuserPassword: " +
      std::string(kServicePassword) + "\n\n";
  for (const ConformanceUser& u : ConformanceUsers()) {
    ldif += "dn: " + u.dn + "\nobjectClass: inetOrgPerson\nuid: " + u.uid + "\ncn: " + u.cn +
            "\nsn: " + u.cn + "\nuserPassword: " + u.password + "\n";
    if (!u.mail.empty()) ldif += "mail: " + u.mail + "\n";
    ldif += "\n";
  }
  for (const std::string& group : kConformanceGroups) {
    ldif += "dn: " + group +
            "\nobjectClass: groupOfNames\ncn: " + group.substr(3, group.find(',') - 3) + "\n";
    for (const ConformanceUser& u : ConformanceUsers()) {
      for (const std::string& g : u.groups) {
        if (g == group) ldif += "member: " + u.dn + "\n";
      }
    }
    ldif += "\n";
  }
  return ldif;
}

// A slapd serving the conformance directory; stopped (SIGTERM, then SIGKILL) on destruction.
class Slapd {
 public:
  // FailedPrecondition when slapd is not installed; Internal when it would not start.
  // `tls_dir`, when set, holds ca.pem, server.pem and server.key and slapd also serves ldaps.
  static StatusOr<std::unique_ptr<Slapd>> Start(bool with_tls = false) {
    for (const std::string& path :
         {std::string(kSlapd), std::string(kSlapadd), std::string(kSchemaDir) + "/core.schema"}) {
      if (!Exists(path)) {
        return FailedPreconditionError(
            path +
            " is missing: install the Debian packages slapd and ldap-utils "
            "(deploy/install-deps.sh does)");
      }
    }
    std::unique_ptr<Slapd> s(new Slapd());
    if (with_tls) SF_RETURN_IF_ERROR(s->MakeCertificates());
    // A free port can be taken between our probe and slapd's bind: try a few.
    Status last = OkStatus();
    for (int attempt = 0; attempt < 5; ++attempt) {
      last = s->TryStart(with_tls);
      if (last.ok()) return s;
    }
    return last;
  }

  ~Slapd() { Stop(); }

  int port() const { return port_; }
  std::string url() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
  std::string ldaps_url() const { return "ldaps://127.0.0.1:" + std::to_string(tls_port_); }
  const std::string& dir() const { return dir_.path(); }
  std::string ca_file() const { return dir_.path() + "/ca.pem"; }
  std::string password_file() const { return dir_.path() + "/service.password"; }

  void Stop() {
    if (!process_) return;
    process_->Signal(SIGTERM);
    if (process_->Wait(milliseconds(5000)) == -1) {
      process_->Signal(SIGKILL);
      process_->Wait(milliseconds(5000));
    }
    process_.reset();
  }

 private:
  Slapd() = default;

  Status MakeCertificates() {
    // A CA and a server certificate for 127.0.0.1 (IP SAN), by the openssl command.
    const std::string d = dir_.path();
    const std::string script =
        "set -e; cd '" + d +
        "'; "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=steadfast-test-ca "
        "-keyout ca.key -out ca.pem; "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out "
        "server.csr; "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext; "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile san.ext -out server.pem";
    Process p({"/bin/sh", "-c", script}, d + "/openssl.log");
    if (p.Wait(milliseconds(60'000)) != 0) {
      return FailedPreconditionError("cannot make test certificates with openssl: " +
                                     testsupport::ReadTextFile(d + "/openssl.log"));
    }
    return OkStatus();
  }

  Status TryStart(bool with_tls) {
    port_ = testsupport::FreeLoopbackPort();
    tls_port_ = with_tls ? testsupport::FreeLoopbackPort() : 0;
    const std::string d = dir_.path();
    const std::string db = d + "/db-" + std::to_string(port_);
    ::mkdir(db.c_str(), 0700);
    std::string conf = "include " + std::string(kSchemaDir) + "/core.schema\n" + "include " +
                       std::string(kSchemaDir) + "/cosine.schema\n" + "include " +
                       std::string(kSchemaDir) + "/inetorgperson.schema\n" + "pidfile " + d +
                       "/slapd-" + std::to_string(port_) + ".pid\n";
    // Debian builds the backends as modules; other builds may link mdb in.
    if (Exists(std::string(kModuleDir) + "/back_mdb.so")) {
      conf += "modulepath " + std::string(kModuleDir) + "\nmoduleload back_mdb\n";
    }
    // Like Active Directory: a bind with a DN and an empty password "succeeds" as anonymous.
    conf += "allow bind_anon_dn\n";
    if (with_tls) {
      conf += "TLSCACertificateFile " + d + "/ca.pem\nTLSCertificateFile " + d +
              "/server.pem\nTLSCertificateKeyFile " + d + "/server.key\n";
    }
    conf +=
        "database mdb\nmaxsize 10485760\nsuffix \"dc=example,dc=org\"\n"
        "rootdn \"cn=admin,dc=example,dc=org\"\nrootpw admin-secret\n"
        "directory " +
        db +
        "\n"
        "access to attrs=userPassword\n  by anonymous auth\n  by * none\n"
        "access to *\n  by users read\n  by * none\n";
    const std::string conf_path = d + "/slapd-" + std::to_string(port_) + ".conf";
    testsupport::WriteTextFile(conf_path, conf);
    testsupport::WriteTextFile(d + "/data.ldif", ConformanceLdif());
    // With the newline an editor leaves: OpenLdapDirectory::Create drops it.
    testsupport::WriteTextFile(password_file(), std::string(kServicePassword) + "\n");
    ::chmod(password_file().c_str(), 0600);

    Process load({kSlapadd, "-q", "-f", conf_path, "-l", d + "/data.ldif"}, d + "/slapadd.log");
    if (load.Wait(milliseconds(30'000)) != 0) {
      return InternalError("slapadd failed: " + testsupport::ReadTextFile(d + "/slapadd.log"));
    }
    std::string listen = "ldap://127.0.0.1:" + std::to_string(port_) + "/";
    if (with_tls) listen += " ldaps://127.0.0.1:" + std::to_string(tls_port_) + "/";
    // -d 0: stay in the foreground (a child we can signal), log nothing but errors.
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kSlapd, "-h", listen, "-f", conf_path, "-d", "0"},
        d + "/slapd.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->running()) break;
      if (PortAnswers(port_) && (!with_tls || PortAnswers(tls_port_))) return OkStatus();
      std::this_thread::sleep_for(milliseconds(20));
    }
    Stop();
    return InternalError("slapd did not start on port " + std::to_string(port_) + ": " +
                         testsupport::ReadTextFile(d + "/slapd.log"));
  }

  TempDir dir_;
  int port_ = 0;
  int tls_port_ = 0;
  std::unique_ptr<Process> process_;
};

class SlapdHarness final : public LdapDirectoryHarness {
 public:
  static StatusOr<std::unique_ptr<LdapDirectoryHarness>> Make(bool search_mode) {
    std::unique_ptr<SlapdHarness> h(new SlapdHarness());
    SF_ASSIGN_OR_RETURN(h->slapd_, Slapd::Start());
    LdapConfig config =
        ConformanceLdapConfig(h->slapd_->url(), search_mode, search_mode ? kServiceDn : "");
    config.bind_password_file = search_mode ? h->slapd_->password_file() : "";
    std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
    SF_ASSIGN_OR_RETURN(h->directory_, OpenLdapDirectory::Create(config, *fs));
    return std::unique_ptr<LdapDirectoryHarness>(std::move(h));
  }
  LdapDirectory& directory() override { return *directory_; }
  // The port stays bound so that no parallel test's slapd (serving the same users) answers there.
  void TakeDown() override {
    slapd_->Stop();
    held_ = std::make_unique<testsupport::HeldPort>(slapd_->port());
    ASSERT_TRUE(held_->held()) << "cannot hold " << slapd_->url();
  }
  std::string url() const override { return slapd_->url(); }

 private:
  SlapdHarness() = default;
  std::unique_ptr<Slapd> slapd_;
  std::unique_ptr<OpenLdapDirectory> directory_;
  std::unique_ptr<testsupport::HeldPort> held_;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    Slapd, LdapDirectoryConformanceTest,
    ::testing::Values(
        LdapDirectoryImplementation{"Template", [] { return SlapdHarness::Make(false); }},
        LdapDirectoryImplementation{"Search", [] { return SlapdHarness::Make(true); }}),
    LdapDirectoryImplementationName);

namespace {

class SlapdTest : public ::testing::Test {
 protected:
  void StartSlapd(bool with_tls = false) {
    StatusOr<std::unique_ptr<Slapd>> s = Slapd::Start(with_tls);
    if (!s.ok() && s.status().code() == StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << s.status().message();
    }
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    slapd_ = std::move(s).value();
  }

  StatusOr<LdapIdentity> Login(const LdapConfig& config, const std::string& user,
                               const std::string& password, const std::string& bind_password = "") {
    OpenLdapDirectory directory(config, bind_password);
    return directory.Authenticate(user, password);
  }

  std::unique_ptr<Slapd> slapd_;
};

// Why Authenticate refuses empty passwords itself: this server (like Active Directory) answers
// a simple bind with a DN and no password with success, as an anonymous session.
TEST_F(SlapdTest, TheServerTakesAnEmptyPasswordBindAsAnonymousSuccess) {
  StartSlapd();
  if (IsSkipped() || HasFatalFailure()) return;
  LDAP* ld = nullptr;
  ASSERT_EQ(ldap_initialize(&ld, slapd_->url().c_str()), LDAP_SUCCESS);
  int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  berval empty{0, nullptr};
  const int rc = ldap_sasl_bind_s(ld, ConformanceUserNamed("alice").dn.c_str(), LDAP_SASL_SIMPLE,
                                  &empty, nullptr, nullptr, nullptr);
  EXPECT_EQ(rc, LDAP_SUCCESS) << ldap_err2string(rc);
  ldap_unbind_ext_s(ld, nullptr, nullptr);
  // Through OpenLdapDirectory it is refused, in both modes.
  LdapConfig by_template = ConformanceLdapConfig(slapd_->url(), false);
  EXPECT_EQ(Login(by_template, "alice", "").status().code(), StatusCode::kUnauthenticated);
  LdapConfig by_search = ConformanceLdapConfig(slapd_->url(), true, kServiceDn);
  EXPECT_EQ(Login(by_search, "alice", "", kServicePassword).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(SlapdTest, AServerThatNeverAnswersTimesOutAsUnavailable) {
  // A listening socket nobody accepts from: the TCP handshake completes, no LDAP reply comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "ldap://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  for (bool search : {false, true}) {
    LdapConfig config = ConformanceLdapConfig(url, search, search ? kServiceDn : "");
    config.timeout_ms = 300;
    const auto start = std::chrono::steady_clock::now();
    StatusOr<LdapIdentity> id = Login(config, "alice", "Alice-Secret-1", kServicePassword);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
    EXPECT_NE(id.status().message().find(url), std::string::npos) << id.status().message();
    EXPECT_LT(took, std::chrono::seconds(5));
  }
  ::close(fd);
}

TEST_F(SlapdTest, RefusedServiceAccountIsUnavailableNotTheUsersFault) {
  StartSlapd();
  if (IsSkipped() || HasFatalFailure()) return;
  LdapConfig config = ConformanceLdapConfig(slapd_->url(), true, kServiceDn);
  StatusOr<LdapIdentity> id = Login(config, "alice", "Alice-Secret-1", "Wrong-Service-Secret");
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_NE(id.status().message().find("service account"), std::string::npos)
      << id.status().message();
  EXPECT_EQ(id.status().message().find("Wrong-Service-Secret"), std::string::npos)
      << id.status().message();
  EXPECT_EQ(id.status().message().find("Alice-Secret-1"), std::string::npos)
      << id.status().message();
}

TEST_F(SlapdTest, MissingGroupBaseIsUnavailable) {
  StartSlapd();
  if (IsSkipped() || HasFatalFailure()) return;
  LdapConfig config = ConformanceLdapConfig(slapd_->url(), true, kServiceDn);
  config.group_base = "ou=teams,dc=example,dc=org";
  StatusOr<LdapIdentity> id = Login(config, "alice", "Alice-Secret-1", kServicePassword);
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_NE(id.status().message().find("ou=teams"), std::string::npos) << id.status().message();
}

TEST_F(SlapdTest, GroupsCanBeFoundByUsername) {
  StartSlapd();
  if (IsSkipped() || HasFatalFailure()) return;
  LdapConfig config = ConformanceLdapConfig(slapd_->url(), false);
  // member holds DNs, so {username} is used through a DN-shaped filter here.
  config.group_filter = "(member=uid={username},ou=people,dc=example,dc=org)";
  StatusOr<LdapIdentity> id = Login(config, "alice", "Alice-Secret-1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->groups.size(), 2u);
}

TEST_F(SlapdTest, StartTlsAgainstAServerWithoutTlsIsUnavailable) {
  StartSlapd();
  if (IsSkipped() || HasFatalFailure()) return;
  LdapConfig config = ConformanceLdapConfig(slapd_->url(), false);
  config.start_tls = true;
  StatusOr<LdapIdentity> id = Login(config, "alice", "Alice-Secret-1");
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_NE(id.status().message().find("StartTLS"), std::string::npos) << id.status().message();
}

TEST_F(SlapdTest, TlsChecksTheServersCertificate) {
  if (!Exists("/usr/bin/openssl")) {
    GTEST_SKIP() << "/usr/bin/openssl is needed to make test certificates";
  }
  StartSlapd(/*with_tls=*/true);
  if (IsSkipped() || HasFatalFailure()) return;
  // Trusted through ca_file: ldaps:// and StartTLS work.
  LdapConfig ldaps = ConformanceLdapConfig(slapd_->ldaps_url(), false);
  ldaps.ca_file = slapd_->ca_file();
  StatusOr<LdapIdentity> id = Login(ldaps, "alice", "Alice-Secret-1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->display_name, "Alice Example");
  LdapConfig start_tls = ConformanceLdapConfig(slapd_->url(), false);
  start_tls.start_tls = true;
  start_tls.ca_file = slapd_->ca_file();
  id = Login(start_tls, "alice", "Alice-Secret-1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // Without our CA the certificate is a stranger's: refused before the password is sent.
  ldaps.ca_file = "";
  id = Login(ldaps, "alice", "Alice-Secret-1");
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  start_tls.ca_file = "";
  id = Login(start_tls, "alice", "Alice-Secret-1");
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  // Trusted CA, wrong name: localhost is not in the certificate (IP 127.0.0.1 is).
  LdapConfig wrong_name = ConformanceLdapConfig(slapd_->ldaps_url(), false);
  wrong_name.url =
      "ldaps://localhost:" + slapd_->ldaps_url().substr(slapd_->ldaps_url().rfind(':') + 1);
  wrong_name.ca_file = slapd_->ca_file();
  id = Login(wrong_name, "alice", "Alice-Secret-1");
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
}

}  // namespace
}  // namespace steadfast::collector::auth::testing
