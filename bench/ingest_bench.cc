// ingest_bench: throughput and latency of the collector's report ingestion.
//
// Starts a collector in-process on 127.0.0.1 (port 0, temporary data dir) — or uses --url —
// enrols N simulated agents, then pushes report batches (zstd JSON, as the agent sends them)
// from a few client threads over keep-alive connections for a fixed duration or batch count.
// Prints results/s, batches/s, batch latency p50/p99/max, the CPU the load generator used,
// and a baseline: the raw SQLite insert rate of the same rows into a table like the
// collector's results table (same columns and indexes, 1000 rows per transaction, same
// synchronous mode, no HTTP, no JSON) in the same run, with the collector/raw ratio. The
// last line is a one-line summary for scripts and reports.
//
// The load generator shares the machine with an in-process collector, so it is kept cheap:
// before the clock starts every simulated agent gets its batches encoded and compressed
// (distinct results, seqs increasing per agent from now_ms * 1000 as a new agent spool
// starts), and the client threads only send them with a minimal keep-alive HTTP/1.1 client
// (--client raw; --client beast or curl use the project's HttpClient implementations). A
// batch that fails is sent again, as an agent retries it. If an agent's prepared batches run
// out, more are encoded during the run and reported as such.
//
//   ingest_bench                                 1000 agents, 50 results/batch, 20 s
//   ingest_bench --agents 200 --seconds 5 --synchronous NORMAL
//   ingest_bench --url http://127.0.0.1:8080 --enroll-token TOKEN
//
// Loopback only; every loop is bounded by the duration or the count.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/server.h"
#include "common/clock.h"
#include "common/fs/file_system.h"
#include "common/http/beast_http_client.h"
#include "common/http/http_client.h"
#include "common/logging.h"
#include "common/protocol/protocol.h"
#include "common/sqlite/sqlite_db.h"

namespace steadfast::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Results per second the prepared batches are sized for (with --batches 0).
constexpr double kPreparedForResultsPerSecond = 120'000;

struct Options {
  std::string url;
  std::string enroll_token;
  int agents = 1000;
  int batch = 50;
  int threads = 16;
  double duration_s = 20;
  int64_t batches = 0;  // 0: run for duration_s
  int checks_per_agent = 10;
  std::string synchronous = "FULL";
  int handler_threads = 32;
  std::string client = "raw";
  int64_t prepared_per_agent = 0;  // 0: sized from the duration (or --batches)
  bool baseline = true;
  int64_t baseline_max_rows = 500'000;
};

// One simulated result, the fields the JSON and the baseline rows share.
struct Row {
  uint64_t seq;
  int check;
  int status;  // 0..3
  int64_t observed_at_ms;
};

const char* kStatusNames[] = {"ok", "warning", "critical", "unknown"};

int StatusFor(uint64_t seq, int check) {
  uint64_t h = (seq * 2654435761u) ^ static_cast<uint64_t>(check * 40503);
  int r = static_cast<int>(h % 100);
  return r < 90 ? 0 : r < 96 ? 1 : r < 99 ? 2 : 3;
}

std::string CheckName(int check) { return fmt::format("fs-{}", check); }
std::string Target(int check) { return fmt::format("/mnt/data{}", check); }

std::string Summary(int check, int status) {
  return fmt::format("/mnt/data{} is {} full ({})", check, 40 + check * 5, kStatusNames[status]);
}

std::string Details(int check) {
  return fmt::format(R"({{"device":"/dev/sd{}1","fstype":"ext4"}})", static_cast<char>('a' + check % 26));
}

// As the collector stores it (the order and number format of its metrics_json).
std::string MetricsJson(int check, int status) {
  double used = 0.4 + 0.05 * check + 0.01 * status;
  return fmt::format(
      R"([{{"name":"filesystem_used_ratio","labels":{{"mountpoint":"/mnt/data{0}"}},"value":{1},"unit":"ratio"}},)"
      R"({{"name":"filesystem_free_bytes","labels":{{"mountpoint":"/mnt/data{0}"}},"value":{2},"unit":"bytes"}}])",
      check, used, static_cast<double>(static_cast<int64_t>((1.0 - used) * 500e9)));
}

// The text of every (check, status) combination, rendered once: the JSON around a result's
// seq and observed_at for the load generator, the column values for the baseline.
class RowTemplates {
 public:
  explicit RowTemplates(int checks) {
    for (int c = 0; c < checks; ++c) {
      for (int s = 0; s < 4; ++s) {
        Entry e;
        e.check = CheckName(c);
        e.target = Target(c);
        e.summary = Summary(c, s);
        e.metrics = MetricsJson(c, s);
        e.details = Details(c);
        e.json_middle = fmt::format(R"(,"check":"{}","target":"{}","status":"{}","summary":"{}","observed_at":")",
                                    e.check, e.target, kStatusNames[s], e.summary);
        e.json_tail = fmt::format(R"(","duration_ms":3,"metrics":{},"details":{}}})", e.metrics, e.details);
        entries_.push_back(std::move(e));
      }
    }
  }
  struct Entry {
    std::string check, target, summary, metrics, details;
    std::string json_middle;  // from after the seq to the opening quote of observed_at
    std::string json_tail;    // from the closing quote of observed_at to the end of the result
  };
  const Entry& Get(const Row& r) const { return entries_[static_cast<size_t>(r.check * 4 + r.status)]; }

 private:
  std::vector<Entry> entries_;
};

struct Agent {
  std::string id;
  std::string token;
  std::string hostname;
  uint64_t next_seq = 1;              // the first seq of the next batch to encode
  std::vector<std::string> prepared;  // zstd bodies, in send order
  size_t next = 0;                    // the next prepared body to send
};

std::vector<Row> NextRows(uint64_t* next_seq, int n, int checks, int64_t now_ms) {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    uint64_t seq = (*next_seq)++;
    int check = static_cast<int>(seq % static_cast<uint64_t>(checks));
    rows.push_back(Row{seq, check, StatusFor(seq, check), now_ms - (n - i)});
  }
  return rows;
}

// The JSON of one report batch, written directly from the templates.
std::string BatchJson(const RowTemplates& t, const Agent& agent, const std::vector<Row>& rows, int64_t now_ms) {
  std::string out;
  out.reserve(rows.size() * 480 + 300);
  fmt::format_to(std::back_inserter(out),
                 R"j({{"version":1,"agent_id":"{}","sent_at":"{}","host":{{"hostname":"{}","os":"Debian GNU/Linux 12 (bookworm)","kernel":"6.1.0-18-amd64","arch":"x86_64","agent_version":"0.1.0"}},"results":[)j",
                 agent.id, FormatRfc3339Millis(now_ms), agent.hostname);
  char digits[24];
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const RowTemplates::Entry& e = t.Get(r);
    out += i == 0 ? R"({"seq":)" : R"(,{"seq":)";
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), r.seq);
    out.append(digits, end);
    out += e.json_middle;
    out += FormatRfc3339Millis(r.observed_at_ms);
    out += e.json_tail;
  }
  out += "]}";
  return out;
}

// Encodes and compresses the agent's next batch (zstd level 3 with the frame's content size,
// as the agent's ZstdCompress does; the context is reused, which only saves the generator
// time).
class BatchEncoder {
 public:
  BatchEncoder(const RowTemplates& t, const Options& o) : t_(t), o_(o), cctx_(ZSTD_createCCtx()) {}
  ~BatchEncoder() { ZSTD_freeCCtx(cctx_); }
  BatchEncoder(const BatchEncoder&) = delete;
  BatchEncoder& operator=(const BatchEncoder&) = delete;

  std::string Next(Agent& agent, int64_t now_ms) {
    std::vector<Row> rows = NextRows(&agent.next_seq, o_.batch, o_.checks_per_agent, now_ms);
    std::string json = BatchJson(t_, agent, rows, now_ms);
    std::string out(ZSTD_compressBound(json.size()), '\0');
    size_t n = ZSTD_compressCCtx(cctx_, out.data(), out.size(), json.data(), json.size(), 3);
    if (ZSTD_isError(n)) {
      std::fprintf(stderr, "ingest_bench: zstd: %s\n", ZSTD_getErrorName(n));
      std::abort();
    }
    out.resize(n);
    return out;
  }

 private:
  const RowTemplates& t_;
  const Options& o_;
  ZSTD_CCtx* cctx_;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// ---------------------------------------------------------------------------------------------
// The load generator's HTTP client. `raw` is a minimal blocking keep-alive HTTP/1.1 client for
// POSTs to a loopback collector: one connection per client thread, Content-Length framing both
// ways (what the collector's server sends), one reconnect when a kept-alive connection turns
// out closed. The others wrap the project's HttpClient implementations.

struct Reply {
  int status = 0;
  std::string body;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // POST `body` to `path` with the given extra header lines ("Name: value\r\n" each).
  virtual StatusOr<Reply> Post(const std::string& path, const std::string& header_lines, const std::string& body) = 0;
};

class RawSender final : public Sender {
 public:
  RawSender(std::string host, std::string port) : host_(std::move(host)), port_(std::move(port)) {}
  ~RawSender() override { Close(); }

  StatusOr<Reply> Post(const std::string& path, const std::string& header_lines, const std::string& body) override {
    head_.clear();
    fmt::format_to(std::back_inserter(head_), "POST {} HTTP/1.1\r\nHost: {}:{}\r\n{}Content-Length: {}\r\n\r\n", path,
                   host_, port_, header_lines, body.size());
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = fd_ >= 0;
      if (fd_ < 0) SF_RETURN_IF_ERROR(Connect());
      bool nothing_read = false;
      StatusOr<Reply> r = Exchange(body, &nothing_read);
      if (r.ok()) return r;
      Close();
      // A kept-alive connection the server had already closed: once more on a new one.
      if (!(reused && nothing_read)) return r.status();
    }
    return UnavailableError("connection closed twice");
  }

 private:
  Status Connect() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res);
    if (rc != 0) return UnavailableError(std::string("resolve: ") + gai_strerror(rc));
    Status st = UnavailableError("connect failed");
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        timeval tv{30, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        fd_ = fd;
        st = OkStatus();
        break;
      }
      st = UnavailableError(std::string("connect: ") + std::strerror(errno));
      ::close(fd);
    }
    freeaddrinfo(res);
    return st;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
  }

  Status SendAll(const std::string& body) {
    iovec iov[2] = {{head_.data(), head_.size()}, {const_cast<char*>(body.data()), body.size()}};
    int idx = 0;
    while (idx < 2) {
      ssize_t n = ::writev(fd_, iov + idx, 2 - idx);
      if (n < 0) {
        if (errno == EINTR) continue;
        return UnavailableError(std::string("send: ") + std::strerror(errno));
      }
      size_t left = static_cast<size_t>(n);
      while (idx < 2 && left >= iov[idx].iov_len) {
        left -= iov[idx].iov_len;
        ++idx;
      }
      if (idx < 2) {
        iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
        iov[idx].iov_len -= left;
      }
    }
    return OkStatus();
  }

  // Reads more bytes into in_; false on EOF or error.
  bool Fill() {
    char buf[16384];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }

  StatusOr<Reply> Exchange(const std::string& body, bool* nothing_read) {
    SF_RETURN_IF_ERROR(SendAll(body));
    size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        *nothing_read = in_.empty();
        return UnavailableError("connection closed before the response");
      }
    }
    std::string_view head(in_.data(), header_end);
    Reply reply;
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return UnavailableError("malformed status line");
    std::from_chars(head.data() + 9, head.data() + 12, reply.status);
    size_t length = 0;
    bool close_after = false;
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos < head.size()) {
      size_t next = head.find("\r\n", pos + 2);
      std::string_view line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "content-length") std::from_chars(value.data(), value.data() + value.size(), length);
        if (name == "connection" && (value == "close" || value == "Close")) close_after = true;
      }
      pos = next;
    }
    const size_t total = header_end + 4 + length;
    while (in_.size() < total) {
      if (!Fill()) return UnavailableError("connection closed in the response body");
    }
    reply.body.assign(in_, header_end + 4, length);
    in_.erase(0, total);
    if (close_after) Close();
    return reply;
  }

  std::string host_, port_;
  int fd_ = -1;
  std::string head_;
  std::string in_;  // bytes received and not yet consumed
};

class HttpClientSender final : public Sender {
 public:
  HttpClientSender(std::unique_ptr<http::HttpClient> client, std::string url)
      : client_(std::move(client)), url_(std::move(url)) {}

  StatusOr<Reply> Post(const std::string& path, const std::string& header_lines, const std::string& body) override {
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = url_ + path;
    std::string_view lines = header_lines;
    while (!lines.empty()) {
      size_t eol = lines.find("\r\n");
      std::string_view line = lines.substr(0, eol);
      size_t colon = line.find(':');
      req.headers.Set(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
      lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
    }
    req.body = body;
    req.timeout = std::chrono::milliseconds(30'000);
    SF_ASSIGN_OR_RETURN(http::HttpResponse resp, client_->Do(req));
    return Reply{resp.status, std::move(resp.body)};
  }

 private:
  std::unique_ptr<http::HttpClient> client_;
  std::string url_;
};

// "http://host:port" -> host, port.
bool SplitUrl(const std::string& url, std::string* host, std::string* port) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size()) return false;
  *host = rest.substr(0, colon);
  *port = rest.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return true;
}

std::unique_ptr<Sender> NewSender(const Options& o, const std::string& url) {
  if (o.client == "beast") {
    return std::make_unique<HttpClientSender>(http::NewBeastHttpClient({}), url);
  }
  if (o.client == "curl") {
    return std::make_unique<HttpClientSender>(http::NewCurlHttpClient({}), url);
  }
  std::string host, port;
  SplitUrl(url, &host, &port);
  return std::make_unique<RawSender>(host, port);
}

// ---------------------------------------------------------------------------------------------

StatusOr<std::vector<Agent>> EnrolAgents(const Options& o, const std::string& url) {
  std::vector<Agent> agents(static_cast<size_t>(o.agents));
  std::atomic<int> next{0};
  std::mutex mu;
  Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(o.threads, 8); ++t) {
    threads.emplace_back([&] {
      std::unique_ptr<Sender> sender = NewSender(o, url);
      for (int i = next++; i < o.agents; i = next++) {
        protocol::EnrollRequest req;
        req.enrollment_token = o.enroll_token;
        req.host.hostname = fmt::format("bench-{:04d}", i);
        req.host.os = "Debian GNU/Linux 12 (bookworm)";
        req.host.agent_version = "0.1.0";
        auto resp = sender->Post("/api/v1/enroll", "Content-Type: application/json\r\n",
                                 protocol::EncodeEnrollRequest(req));
        Status st = !resp.ok() ? resp.status()
                    : resp->status != 200 ? UnavailableError(fmt::format("enrol: HTTP {} {}", resp->status, resp->body))
                                          : OkStatus();
        StatusOr<protocol::EnrollResponse> er =
            st.ok() ? protocol::DecodeEnrollResponse(resp->body) : StatusOr<protocol::EnrollResponse>(st);
        if (!er.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.ok()) first_error = er.status();
          return;
        }
        Agent& a = agents[static_cast<size_t>(i)];
        a.id = er->agent_id;
        a.token = er->agent_token;
        a.hostname = req.host.hostname;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;
  return agents;
}

// Encodes `per_agent` batches for every agent, on all cores, before the measurement.
void PrepareBatches(const Options& o, const RowTemplates& templates, std::vector<Agent>& agents, int64_t per_agent,
                    int64_t now_ms) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  unsigned n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      BatchEncoder enc(templates, o);
      for (size_t i = next++; i < agents.size(); i = next++) {
        Agent& a = agents[i];
        a.prepared.reserve(static_cast<size_t>(per_agent));
        for (int64_t k = 0; k < per_agent; ++k) a.prepared.push_back(enc.Next(a, now_ms));
      }
    });
  }
  for (auto& t : threads) t.join();
}

struct RunResult {
  int64_t batches = 0;
  int64_t results = 0;
  int64_t errors = 0;
  int64_t encoded_during_run = 0;  // batches the generator had to encode inside the measurement
  double seconds = 0;
  double generator_cpu_s = 0;  // CPU time of the client threads (user + system)
  double process_cpu_s = 0;    // CPU time of the whole process over the same window
  std::vector<double> latencies_ms;
  std::map<int, int64_t> error_codes;
};

RunResult Push(const Options& o, const std::string& url, const RowTemplates& templates, std::vector<Agent>& agents) {
  RunResult total;
  std::mutex mu;
  std::atomic<int64_t> batches_left{o.batches > 0 ? o.batches : INT64_MAX};
  RealClock wall;
  const double cpu_before = ProcessCpuSeconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      const double cpu_start = ThreadCpuSeconds();
      std::unique_ptr<Sender> sender = NewSender(o, url);  // one per thread: its own keep-alive connection
      std::unique_ptr<BatchEncoder> encoder;               // only if the prepared batches run out
      RunResult mine;
      mine.latencies_ms.reserve(static_cast<size_t>(std::min<double>(o.duration_s * 4000 / o.threads, 1e6)));
      std::vector<size_t> slice;
      std::vector<std::string> auth;
      for (size_t i = static_cast<size_t>(t); i < agents.size(); i += static_cast<size_t>(o.threads)) {
        slice.push_back(i);
        auth.push_back("Authorization: Bearer " + agents[i].token +
                       "\r\nContent-Type: application/json\r\nContent-Encoding: zstd\r\n");
      }
      for (size_t k = 0; !slice.empty() && Clock::now() < deadline && batches_left-- > 0; ++k) {
        Agent& agent = agents[slice[k % slice.size()]];
        if (agent.next == agent.prepared.size()) {
          if (!encoder) encoder = std::make_unique<BatchEncoder>(templates, o);
          agent.prepared.push_back(encoder->Next(agent, wall.NowMillis()));
          mine.encoded_during_run++;
        }
        auto sent = Clock::now();
        auto resp = sender->Post("/api/v1/reports", auth[k % slice.size()], agent.prepared[agent.next]);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        if (resp.ok() && resp->status == 200) {
          // Sent: the memory can go; the next batch of this agent follows.
          std::string().swap(agent.prepared[agent.next]);
          agent.next++;
          mine.batches++;
          mine.results += o.batch;
          mine.latencies_ms.push_back(ms);
        } else {
          // The agent keeps the batch and sends it again (its results count as duplicates
          // if they were stored after all).
          mine.errors++;
          mine.error_codes[resp.ok() ? resp->status : 0]++;
        }
      }
      mine.generator_cpu_s = ThreadCpuSeconds() - cpu_start;
      std::lock_guard<std::mutex> lock(mu);
      total.batches += mine.batches;
      total.results += mine.results;
      total.errors += mine.errors;
      total.encoded_during_run += mine.encoded_during_run;
      total.generator_cpu_s += mine.generator_cpu_s;
      total.latencies_ms.insert(total.latencies_ms.end(), mine.latencies_ms.begin(), mine.latencies_ms.end());
      for (auto [code, n] : mine.error_codes) total.error_codes[code] += n;
    });
  }
  for (auto& t : threads) t.join();
  total.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  total.process_cpu_s = ProcessCpuSeconds() - cpu_before;
  return total;
}

// The raw SQLite rate for the same rows into a table with the collector's results columns
// and indexes (collector/store/sqlite_storage.cc, migration 1), 1000 rows per transaction,
// one prepared statement, no HTTP, no JSON; the texts are rendered before the clock starts.
StatusOr<double> Baseline(const Options& o, const RowTemplates& templates, const std::string& dir,
                          int64_t rows_wanted, uint64_t first_seq) {
  sqlite::OpenOptions oo;
  oo.synchronous = o.synchronous;
  SF_ASSIGN_OR_RETURN(auto db, sqlite::SqliteDb::Open(dir + "/baseline.db", oo));
  SF_RETURN_IF_ERROR(db->Exec(R"sql(
CREATE TABLE results (
  id INTEGER PRIMARY KEY, agent_key INTEGER NOT NULL, seq INTEGER NOT NULL, check_name TEXT NOT NULL,
  target TEXT NOT NULL, status INTEGER NOT NULL, summary TEXT NOT NULL, observed_at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL, metrics_json TEXT NOT NULL, details_json TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL, UNIQUE (agent_key, seq));
CREATE INDEX results_by_check ON results (agent_key, check_name, target, seq);
)sql"));
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement ins,
                      db->Prepare("INSERT INTO results (agent_key, seq, check_name, target, status, summary, "
                                  "observed_at_ms, duration_ms, metrics_json, details_json, received_at_ms) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                                  "ON CONFLICT (agent_key, seq) DO NOTHING"));
  // The same row contents as the pushed batches, agent by agent in batch-sized runs.
  std::vector<uint64_t> next_seq(static_cast<size_t>(o.agents), first_seq);
  RealClock wall;
  const int64_t now_ms = wall.NowMillis();
  const auto start = Clock::now();
  int64_t written = 0;
  size_t agent = 0;
  while (written < rows_wanted) {
    sqlite::Transaction tx(db.get());
    SF_RETURN_IF_ERROR(tx.Begin());
    for (int i = 0; i < 1000 && written < rows_wanted; i += o.batch) {
      std::vector<Row> rows = NextRows(&next_seq[agent], o.batch, o.checks_per_agent, now_ms);
      for (const Row& r : rows) {
        const RowTemplates::Entry& e = templates.Get(r);
        ins.Reset();
        ins.Bind(1, static_cast<int64_t>(agent + 1))
            .Bind(2, static_cast<int64_t>(r.seq))
            .Bind(3, std::string_view(e.check))
            .Bind(4, std::string_view(e.target))
            .Bind(5, static_cast<int64_t>(r.status))
            .Bind(6, std::string_view(e.summary))
            .Bind(7, r.observed_at_ms)
            .Bind(8, int64_t{3})
            .Bind(9, std::string_view(e.metrics))
            .Bind(10, std::string_view(e.details))
            .Bind(11, now_ms);
        SF_RETURN_IF_ERROR(ins.Run());
      }
      written += o.batch;
      agent = (agent + 1) % next_seq.size();
    }
    SF_RETURN_IF_ERROR(tx.Commit());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(written) / seconds;
}

double MetricValue(const std::string& text, const std::string& name) {
  size_t pos = text.find("\n" + name + " ");
  if (pos == std::string::npos) return 0;
  return std::atof(text.c_str() + pos + name.size() + 2);
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "ingest_bench: collector ingest throughput and latency (loopback only).\n"
      "The simulated agents run in this process and share its CPUs with an in-process collector, so\n"
      "they are kept cheap: every agent's batches (distinct results, seqs increasing per agent) are\n"
      "encoded and zstd-compressed before the clock starts, and sent with a minimal keep-alive\n"
      "HTTP/1.1 client (--client raw). The load generator's CPU share is printed. The baseline is\n"
      "the raw SQLite insert rate of the same rows into a table with the collector's indexes."};
  app.add_option("--url", o.url, "use a running collector (http://127.0.0.1:PORT) instead of an in-process one");
  app.add_option("--enroll-token", o.enroll_token, "enrolment token (required with --url)");
  app.add_option("--agents", o.agents, "simulated agents")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", o.batch, "results per batch")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--threads", o.threads, "client threads, each with a keep-alive connection and one batch in flight")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--seconds,--duration", o.duration_s, "seconds to push for")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--batches", o.batches, "stop after this many batches (0: run for --seconds)")->capture_default_str();
  app.add_option("--checks", o.checks_per_agent, "distinct checks per agent")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--synchronous", o.synchronous, "in-process collector's storage.synchronous")
      ->check(CLI::IsMember({"FULL", "NORMAL"}))
      ->capture_default_str();
  app.add_option("--handler-threads", o.handler_threads, "in-process collector's http.handler_threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--client", o.client,
                 "load generator's HTTP client: raw (minimal, cheapest), beast (the agent's), curl")
      ->check(CLI::IsMember({"raw", "beast", "curl"}))
      ->capture_default_str();
  app.add_option("--prepared", o.prepared_per_agent,
                 "batches encoded per agent before the clock starts (0: enough for " +
                     fmt::format("{:.0f}", kPreparedForResultsPerSecond) +
                     " results/s over --seconds, or for --batches); more are encoded during the run if needed")
      ->check(CLI::Range(int64_t{0}, int64_t{100000}))
      ->capture_default_str();
  app.add_flag("!--no-baseline", o.baseline, "skip the raw SQLite baseline");
  app.add_option("--baseline-rows", o.baseline_max_rows, "rows for the baseline at most")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  LogOptions log;
  log.level = "warn";
  if (!InitLogging(log).ok()) return 1;

  std::string tmp = std::filesystem::temp_directory_path().string() + "/sf-ingest-bench-XXXXXX";
  std::vector<char> buf(tmp.begin(), tmp.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    std::fprintf(stderr, "ingest_bench: cannot create a temporary directory\n");
    return 1;
  }
  const std::string dir = buf.data();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};

  RealClock clock;
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  std::unique_ptr<collector::CollectorServer> server;
  std::string url = o.url;
  if (url.empty()) {
    collector::CollectorConfig config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.data_dir = dir + "/collector";
    config.web_root = dir;
    o.enroll_token = "ingest-bench-enrolment-token-0123456789";
    config.enrollment_tokens = {o.enroll_token};
    config.storage_synchronous = o.synchronous;
    config.handler_threads = o.handler_threads;
    auto s = collector::CollectorServer::Start(config, collector::CollectorDeps{clock, *fs});
    if (!s.ok()) {
      std::fprintf(stderr, "ingest_bench: cannot start the collector: %s\n", s.status().ToString().c_str());
      return 1;
    }
    server = std::move(s).value();
    url = server->url();
  } else if (url.rfind("http://127.", 0) != 0 && url.rfind("http://localhost", 0) != 0 &&
             url.rfind("http://[::1]", 0) != 0) {
    std::fprintf(stderr, "ingest_bench: --url must be a loopback http:// address\n");
    return 2;
  } else if (o.enroll_token.empty()) {
    std::fprintf(stderr, "ingest_bench: --url needs --enroll-token\n");
    return 2;
  }
  {
    std::string host, port;
    if (!SplitUrl(url, &host, &port)) {
      std::fprintf(stderr, "ingest_bench: cannot parse the URL '%s' (http://HOST:PORT)\n", url.c_str());
      return 2;
    }
  }

  const RowTemplates templates(o.checks_per_agent);
  // Seqs start where a new agent spool starts them (PROTOCOL.md).
  const uint64_t first_seq = static_cast<uint64_t>(clock.NowMillis()) * 1000;

  // The generated JSON must be exactly what the collector accepts.
  {
    Agent probe{"a-probe", "", "probe", first_seq, {}, 0};
    std::vector<Row> rows = NextRows(&probe.next_seq, 4 * o.checks_per_agent, o.checks_per_agent, clock.NowMillis());
    auto decoded = protocol::DecodeReportBatch(BatchJson(templates, probe, rows, clock.NowMillis()));
    if (!decoded.ok()) {
      std::fprintf(stderr, "ingest_bench: bug: generated batch does not decode: %s\n", decoded.status().ToString().c_str());
      return 1;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const protocol::CheckResult& r = decoded->results[i].result;
      if (decoded->results[i].seq != rows[i].seq || r.check != CheckName(rows[i].check) ||
          static_cast<int>(r.status) != rows[i].status || r.observed_at_ms != rows[i].observed_at_ms ||
          r.metrics.size() != 2) {
        std::fprintf(stderr, "ingest_bench: bug: generated batch decodes to other values\n");
        return 1;
      }
    }
  }

  std::printf("ingest_bench: %s, %d agents, %d results/batch, %d client threads (%s client), %s, "
              "storage.synchronous=%s\n",
              o.url.empty() ? "in-process collector" : url.c_str(), o.agents, o.batch, o.threads, o.client.c_str(),
              o.batches > 0 ? fmt::format("{} batches", o.batches).c_str() : fmt::format("{:.0f} s", o.duration_s).c_str(),
              o.synchronous.c_str());
  std::fflush(stdout);
  auto enrol_start = Clock::now();
  auto agents = EnrolAgents(o, url);
  if (!agents.ok()) {
    std::fprintf(stderr, "ingest_bench: enrolment failed: %s\n", agents.status().ToString().c_str());
    return 1;
  }
  for (Agent& a : *agents) a.next_seq = first_seq;
  std::printf("enrolled  %d agents in %.2f s\n", o.agents, std::chrono::duration<double>(Clock::now() - enrol_start).count());
  std::fflush(stdout);

  int64_t per_agent = o.prepared_per_agent;
  if (per_agent == 0) {
    double batches = o.batches > 0 ? static_cast<double>(o.batches)
                                   : o.duration_s * kPreparedForResultsPerSecond / static_cast<double>(o.batch);
    per_agent = static_cast<int64_t>(std::ceil(batches / static_cast<double>(o.agents))) + 1;
  }
  auto prep_start = Clock::now();
  PrepareBatches(o, templates, *agents, per_agent, clock.NowMillis());
  size_t prepared_bytes = 0;
  for (const Agent& a : *agents) {
    for (const std::string& b : a.prepared) prepared_bytes += b.size();
  }
  std::printf("prepared  %lld batches (%lld per agent, %.1f MiB zstd, %.0f bytes per batch) in %.2f s, before the clock\n",
              static_cast<long long>(per_agent * o.agents), static_cast<long long>(per_agent),
              static_cast<double>(prepared_bytes) / (1 << 20),
              static_cast<double>(prepared_bytes) / static_cast<double>(per_agent * o.agents),
              std::chrono::duration<double>(Clock::now() - prep_start).count());
  std::fflush(stdout);

  RunResult run = Push(o, url, templates, *agents);
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  const double rps = static_cast<double>(run.results) / run.seconds;
  const double p99 = Percentile(run.latencies_ms, 0.99);
  std::printf("pushed    %lld results in %lld batches over %.2f s; %lld failed batches",
              static_cast<long long>(run.results), static_cast<long long>(run.batches), run.seconds,
              static_cast<long long>(run.errors));
  for (auto [code, n] : run.error_codes) {
    std::printf(" [%s: %lld]", code == 0 ? "transport" : std::to_string(code).c_str(), static_cast<long long>(n));
  }
  std::printf("\n");
  std::printf("collector %.0f results/s, %.1f batches/s\n", rps, static_cast<double>(run.batches) / run.seconds);
  std::printf("latency   p50 %.2f ms, p99 %.2f ms, max %.2f ms (per batch, request to ack)\n",
              Percentile(run.latencies_ms, 0.50), p99, run.latencies_ms.empty() ? 0.0 : run.latencies_ms.back());
  const double gen_share = run.process_cpu_s > 0 ? run.generator_cpu_s / run.process_cpu_s : 0;
  std::printf("cpu       process %.1f CPU-s over %.1f s (%.2f of %u cores); load generator %.1f CPU-s (%.0f%% of the "
              "process), %lld batches encoded during the run\n",
              run.process_cpu_s, run.seconds, run.process_cpu_s / run.seconds, std::thread::hardware_concurrency(),
              run.generator_cpu_s, 100 * gen_share, static_cast<long long>(run.encoded_during_run));

  auto metrics_sender = http::NewBeastHttpClient({});
  http::HttpClientRequest mr;
  mr.url = url + "/metrics";
  auto metrics = metrics_sender->Do(mr);
  if (metrics.ok() && metrics->status == 200) {
    double commits = MetricValue(metrics->body, "steadfast_collector_storage_commits_total");
    double commit_sum = MetricValue(metrics->body, "steadfast_collector_storage_commit_duration_seconds_sum");
    if (commits > 0) {
      std::printf("storage   %.0f group commits, %.1f batches per commit, %.2f ms mean commit\n", commits,
                  static_cast<double>(run.batches) / commits, 1000.0 * commit_sum / commits);
    }
  }

  std::string stored = "unchecked";
  if (server) {
    server->Shutdown();
    sqlite::OpenOptions ro;
    ro.read_only = true;
    auto db = sqlite::SqliteDb::Open(dir + "/collector/collector.db", ro);
    if (db.ok()) {
      auto q = (*db)->Prepare("SELECT COUNT(*) FROM results");
      if (q.ok() && q->Step().value_or(false)) {
        const bool match = q->ColumnInt(0) == run.results;
        stored = match ? "ok" : "MISMATCH";
        std::printf("check     %lld rows stored for %lld acknowledged results%s\n",
                    static_cast<long long>(q->ColumnInt(0)), static_cast<long long>(run.results),
                    match ? "" : "  <-- MISMATCH");
      }
    }
  }

  double base = 0;
  if (o.baseline) {
    int64_t rows = std::max<int64_t>(std::min<int64_t>(run.results, o.baseline_max_rows), 10'000);
    auto b = Baseline(o, templates, dir, rows, first_seq);
    if (!b.ok()) {
      std::fprintf(stderr, "ingest_bench: baseline failed: %s\n", b.status().ToString().c_str());
      return 1;
    }
    base = *b;
    std::printf("baseline  raw SQLite insert %.0f rows/s (%lld rows, 1000 per transaction, synchronous=%s)\n", base,
                static_cast<long long>(rows), o.synchronous.c_str());
    std::printf("ratio     collector / raw SQLite = %.2f\n", rps / base);
  }
  std::printf("SUMMARY   %.0f results/s, p99 %.1f ms, baseline %s rows/s, ratio %s, load generator %.0f%% of CPU, "
              "%lld failed batches, stored %s (%d agents, %d results/batch, %d client threads, synchronous=%s)\n",
              rps, p99, o.baseline ? fmt::format("{:.0f}", base).c_str() : "-",
              o.baseline ? fmt::format("{:.2f}", rps / base).c_str() : "-", 100 * gen_share,
              static_cast<long long>(run.errors), stored.c_str(), o.agents, o.batch, o.threads, o.synchronous.c_str());
  return run.errors == 0 && stored != "MISMATCH" ? 0 : 1;
}

}  // namespace
}  // namespace steadfast::bench

int main(int argc, char** argv) { return steadfast::bench::Main(argc, argv); }
