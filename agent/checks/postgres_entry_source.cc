// PostgreSQL EntrySource (see entry_source.h). libpq is not linked into the agent: linking it
// maps libpq and its dependency chain (GSSAPI/Kerberos, LDAP, ...) into every agent, used or not
// (agent/CMakeLists.txt has the measurement). It is dlopen()ed the first time a postgres source
// runs a query, and only the functions below are looked up. libpq-fe.h is included for the
// declarations only (decltype keeps the pointer types exact).
//
// Deadline: PQconnectStartParams + PQconnectPoll and PQsendQueryParams + PQconsumeInput are
// non-blocking and polled until ctx.deadline (the host name is resolved inside
// PQconnectStartParams with the system resolver, which has its own timeout). Server side,
// statement_timeout is the time left when the connection starts.
// Read-only: default_transaction_read_only=on for the session, and the extended query protocol,
// which refuses more than one statement, so the query cannot switch it off first.
// Rows are fetched in single-row mode, so a query returning millions of rows costs one row of
// memory; reading stops after max_rows + 1.
#include <dlfcn.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "agent/checks/entry_source.h"

namespace steadfast::agent {
namespace {

// PostgreSQL type OIDs (pg_type.dat) whose text form is a number.
constexpr Oid kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700, kFloat8Oid = 701,
              kNumericOid = 1700;

// The libpq functions this source uses, resolved from libpq.so.5.
struct LibPq {
  void* handle = nullptr;
  decltype(&PQconnectStartParams) connect_start_params = nullptr;
  decltype(&PQconnectPoll) connect_poll = nullptr;
  decltype(&PQstatus) status = nullptr;
  decltype(&PQsocket) socket = nullptr;
  decltype(&PQerrorMessage) error_message = nullptr;
  decltype(&PQfinish) finish = nullptr;
  decltype(&PQsendQueryParams) send_query_params = nullptr;
  decltype(&PQsetSingleRowMode) set_single_row_mode = nullptr;
  decltype(&PQconsumeInput) consume_input = nullptr;
  decltype(&PQisBusy) is_busy = nullptr;
  decltype(&PQgetResult) get_result = nullptr;
  decltype(&PQresultStatus) result_status = nullptr;
  decltype(&PQresultErrorMessage) result_error_message = nullptr;
  decltype(&PQntuples) ntuples = nullptr;
  decltype(&PQnfields) nfields = nullptr;
  decltype(&PQftype) ftype = nullptr;
  decltype(&PQgetvalue) getvalue = nullptr;
  decltype(&PQgetlength) getlength = nullptr;
  decltype(&PQgetisnull) getisnull = nullptr;
  decltype(&PQclear) clear = nullptr;

  ~LibPq() {
    if (handle != nullptr) ::dlclose(handle);
  }

  Status Load() {
    handle = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
      return FailedPreconditionError("libpq.so.5 not installed (apt install libpq5)");
    Status st = OkStatus();
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
      if (fn == nullptr && st.ok()) {
        st = FailedPreconditionError(fmt::format("libpq.so.5 has no {} (too old?)", name));
      }
    };
    sym(connect_start_params, "PQconnectStartParams");
    sym(connect_poll, "PQconnectPoll");
    sym(status, "PQstatus");
    sym(socket, "PQsocket");
    sym(error_message, "PQerrorMessage");
    sym(finish, "PQfinish");
    sym(send_query_params, "PQsendQueryParams");
    sym(set_single_row_mode, "PQsetSingleRowMode");
    sym(consume_input, "PQconsumeInput");
    sym(is_busy, "PQisBusy");
    sym(get_result, "PQgetResult");
    sym(result_status, "PQresultStatus");
    sym(result_error_message, "PQresultErrorMessage");
    sym(ntuples, "PQntuples");
    sym(nfields, "PQnfields");
    sym(ftype, "PQftype");
    sym(getvalue, "PQgetvalue");
    sym(getlength, "PQgetlength");
    sym(getisnull, "PQgetisnull");
    sym(clear, "PQclear");
    if (!st.ok()) {
      ::dlclose(handle);
      handle = nullptr;
    }
    return st;
  }
};

// libpq's messages end with a newline and may span lines ("FATAL: ...\nDETAIL: ..."); a
// summary is one line.
std::string OneLine(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return s;
}

class PostgresEntrySource final : public EntrySource {
 public:
  PostgresEntrySource(std::string uri, std::string password_file)
      : uri_(std::move(uri)), password_file_(std::move(password_file)) {}

  StatusOr<EntryRows> Query(const std::string& sql, size_t max_rows,
                            const CheckContext& ctx) override {
    if (pq_.handle == nullptr) SF_RETURN_IF_ERROR(pq_.Load());
    std::string password;
    if (!password_file_.empty()) {
      StatusOr<std::string> text = ctx.fs.ReadFile(password_file_, 4096);
      if (!text.ok()) {
        return FailedPreconditionError(fmt::format("cannot read password_file {}: {}",
                                                   password_file_, text.status().message()));
      }
      password = text->substr(0, text->find_first_of("\r\n"));
    }
    const bool bounded = ctx.deadline != std::chrono::steady_clock::time_point{};
    const auto deadline = bounded ? ctx.deadline : ctx.clock.Monotonic() + std::chrono::seconds(30);
    const auto left_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ctx.clock.Monotonic())
            .count();
    if (left_ms <= 0) return DeadlineExceededError("no time left before the deadline");
    const std::string options = fmt::format(
        "-c default_transaction_read_only=on -c statement_timeout={} -c TimeZone=UTC", left_ms);
    // dbname is expanded as the URI; the keywords after it override what the URI says.
    std::vector<const char*> keys = {"dbname", "options", "application_name"};
    std::vector<const char*> values = {uri_.c_str(), options.c_str(), "steadfast-agent"};
    if (!password_file_.empty()) {
      keys.push_back("password");
      values.push_back(password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = pq_.connect_start_params(keys.data(), values.data(), /*expand_dbname=*/1);
    if (conn == nullptr) return UnavailableError("libpq could not allocate a connection");
    struct Finisher {
      const LibPq& pq;
      PGconn* conn;
      ~Finisher() { pq.finish(conn); }
    } finisher{pq_, conn};
    if (pq_.status(conn) == CONNECTION_BAD) {
      return UnavailableError(OneLine(pq_.error_message(conn)));
    }
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (poll_status != PGRES_POLLING_OK) {
      if (poll_status == PGRES_POLLING_FAILED) {
        return UnavailableError(OneLine(pq_.error_message(conn)));
      }
      SF_RETURN_IF_ERROR(Wait(conn, poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                              deadline, ctx, "connecting"));
      poll_status = pq_.connect_poll(conn);
    }
    if (pq_.send_query_params(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      return FailedPreconditionError(OneLine(pq_.error_message(conn)));
    }
    pq_.set_single_row_mode(conn);
    EntryRows out;
    std::string error;
    bool command_without_rows = false;
    while (true) {
      while (pq_.is_busy(conn) != 0) {
        SF_RETURN_IF_ERROR(Wait(conn, POLLIN, deadline, ctx, "waiting for the query"));
        if (pq_.consume_input(conn) != 1) return UnavailableError(OneLine(pq_.error_message(conn)));
      }
      PGresult* res = pq_.get_result(conn);
      if (res == nullptr) break;
      const ExecStatusType st = pq_.result_status(res);
      if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
        out.columns = pq_.nfields(res);
        if (out.columns >= 2 && pq_.ntuples(res) > 0) {
          if (out.rows.size() == max_rows) {
            out.truncated = true;
            pq_.clear(res);
            return out;  // closing the connection abandons the rest of the result
          }
          out.rows.emplace_back(Cell(res, 0), Cell(res, 1));
        }
      } else if (st == PGRES_COMMAND_OK) {
        command_without_rows = true;
      } else if (error.empty()) {
        error = OneLine(pq_.result_error_message(res));
      }
      pq_.clear(res);
    }
    if (!error.empty()) return FailedPreconditionError(fmt::format("query failed: {}", error));
    if (command_without_rows)
      return InvalidArgumentError("the query returned no result set (not a SELECT)");
    if (out.columns < 2) {
      return InvalidArgumentError(fmt::format(
          "the query must return two columns (department, last entry time), it returns {}",
          out.columns));
    }
    return out;
  }

 private:
  EntryCell Cell(const PGresult* res, int col) const {
    EntryCell c;
    if (pq_.getisnull(res, 0, col) != 0) return c;
    const char* v = pq_.getvalue(res, 0, col);
    const std::string text(v, static_cast<size_t>(pq_.getlength(res, 0, col)));
    const Oid type = pq_.ftype(res, col);
    if (type == kInt8Oid || type == kInt2Oid || type == kInt4Oid || type == kFloat4Oid ||
        type == kFloat8Oid || type == kNumericOid) {
      char* end = nullptr;
      const double d = std::strtod(text.c_str(), &end);
      if (end != text.c_str() && *end == '\0' && std::isfinite(d)) {
        c.kind = EntryCell::Kind::kNumber;
        c.number = d;
        return c;
      }
    }
    c.kind = EntryCell::Kind::kText;
    c.text = text;
    return c;
  }

  // Waits until the connection's socket is ready for `events`, or the deadline.
  Status Wait(PGconn* conn, short events, std::chrono::steady_clock::time_point deadline,
              const CheckContext& ctx, const char* what) const {
    const int fd = pq_.socket(conn);
    if (fd < 0) return UnavailableError(OneLine(pq_.error_message(conn)));
    while (true) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - ctx.clock.Monotonic());
      if (left.count() <= 0) {
        return DeadlineExceededError(fmt::format("timed out {} (check timeout)", what));
      }
      pollfd p{fd, events, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return UnavailableError(fmt::format("poll: {}", std::strerror(errno)));
      if (n > 0) return OkStatus();
    }
  }

  std::string uri_;
  std::string password_file_;
  LibPq pq_;  // loaded at the first query
};

}  // namespace

StatusOr<std::unique_ptr<EntrySource>> NewPostgresEntrySource(std::string uri,
                                                              std::string password_file) {
  return std::unique_ptr<EntrySource>(
      std::make_unique<PostgresEntrySource>(std::move(uri), std::move(password_file)));
}

}  // namespace steadfast::agent
