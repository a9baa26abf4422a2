// ingest_bench: throughput and latency of the collector's report ingestion.
//
// Starts a collector in-process on 127.0.0.1 (port 0, temporary data dir) — or uses --url —
// enrols N simulated agents, then pushes report batches (zstd JSON, as the agent sends them)
// from a few client threads over keep-alive connections for a fixed duration or batch count.
// Prints results/s, batches/s, batch latency p50/p99/max, and a baseline: the raw SQLite
// insert rate of the same rows into the same table (1000 rows per transaction, same
// synchronous mode) in the same run, with the collector/raw ratio.
//
//   ingest_bench                                 1000 agents, 50 results/batch, 20 s
//   ingest_bench --agents 200 --duration 5 --synchronous NORMAL
//   ingest_bench --url http://127.0.0.1:8080 --enroll-token TOKEN
//
// Loopback only; every loop is bounded by the duration or the count.
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/server.h"
#include "common/clock.h"
#include "common/compression.h"
#include "common/fs/file_system.h"
#include "common/http/http_client.h"
#include "common/logging.h"
#include "common/protocol/protocol.h"
#include "common/sqlite/sqlite_db.h"

namespace steadfast::bench {
namespace {

using Clock = std::chrono::steady_clock;

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
  bool baseline = true;
  int64_t baseline_max_rows = 500'000;
};

struct Agent {
  std::string id;
  std::string token;
  std::string hostname;
  uint64_t next_seq = 1;
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

std::string Summary(int check, int status) {
  return fmt::format("/mnt/data{} is {} full ({})", check, 40 + check * 5, kStatusNames[status]);
}

std::string Details(int check) { return fmt::format(R"({{"fstype":"ext4","device":"/dev/sd{}1"}})", static_cast<char>('a' + check % 26)); }

std::string MetricsJson(int check, int status) {
  double used = 0.4 + 0.05 * check + 0.01 * status;
  return fmt::format(
      R"([{{"name":"filesystem_used_ratio","labels":{{"mountpoint":"/mnt/data{0}"}},"value":{1:.4f},"unit":"ratio"}},)"
      R"({{"name":"filesystem_free_bytes","labels":{{"mountpoint":"/mnt/data{0}"}},"value":{2},"unit":"bytes"}}])",
      check, used, static_cast<int64_t>((1.0 - used) * 500e9));
}

// The JSON of one report batch, written directly (as fast as the agent side gets).
std::string BatchJson(const Agent& agent, const std::vector<Row>& rows, int64_t now_ms) {
  std::string out;
  out.reserve(rows.size() * 420 + 300);
  fmt::format_to(std::back_inserter(out),
                 R"j({{"version":1,"agent_id":"{}","sent_at":"{}","host":{{"hostname":"{}","os":"Debian GNU/Linux 12 (bookworm)","kernel":"6.1.0-18-amd64","arch":"x86_64","agent_version":"0.1.0"}},"results":[)j",
                 agent.id, FormatRfc3339Millis(now_ms), agent.hostname);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (i > 0) out.push_back(',');
    fmt::format_to(std::back_inserter(out),
                   R"({{"seq":{},"check":"fs-{}","target":"/mnt/data{}","status":"{}","summary":"{}","observed_at":"{}","duration_ms":3,"metrics":{},"details":{}}})",
                   r.seq, r.check, r.check, kStatusNames[r.status], Summary(r.check, r.status),
                   FormatRfc3339Millis(r.observed_at_ms), MetricsJson(r.check, r.status), Details(r.check));
  }
  out += "]}";
  return out;
}

std::vector<Row> NextRows(Agent& agent, int n, int checks, int64_t now_ms) {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    uint64_t seq = agent.next_seq++;
    int check = static_cast<int>(seq % static_cast<uint64_t>(checks));
    rows.push_back(Row{seq, check, StatusFor(seq, check), now_ms - (n - i)});
  }
  return rows;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

StatusOr<std::vector<Agent>> EnrolAgents(const Options& o, const std::string& url) {
  std::vector<Agent> agents(static_cast<size_t>(o.agents));
  std::atomic<int> next{0};
  std::mutex mu;
  Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(o.threads, 8); ++t) {
    threads.emplace_back([&] {
      auto client = http::NewCurlHttpClient({});
      for (int i = next++; i < o.agents; i = next++) {
        protocol::EnrollRequest req;
        req.enrollment_token = o.enroll_token;
        req.host.hostname = fmt::format("bench-{:04d}", i);
        req.host.os = "Debian GNU/Linux 12 (bookworm)";
        req.host.agent_version = "0.1.0";
        http::HttpClientRequest hr;
        hr.method = "POST";
        hr.url = url + "/api/v1/enroll";
        hr.headers.Set("Content-Type", "application/json");
        hr.body = protocol::EncodeEnrollRequest(req);
        auto resp = client->Do(hr);
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
        agents[static_cast<size_t>(i)] = Agent{er->agent_id, er->agent_token, req.host.hostname, 1};
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;
  return agents;
}

struct RunResult {
  int64_t batches = 0;
  int64_t results = 0;
  int64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  std::map<int, int64_t> error_codes;
};

RunResult Push(const Options& o, const std::string& url, std::vector<Agent>& agents) {
  RunResult total;
  std::mutex mu;
  std::atomic<int64_t> batches_left{o.batches > 0 ? o.batches : INT64_MAX};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  RealClock wall;
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      auto client = http::NewCurlHttpClient({});  // one per thread: its own keep-alive connection
      RunResult mine;
      std::vector<size_t> slice;
      for (size_t i = static_cast<size_t>(t); i < agents.size(); i += static_cast<size_t>(o.threads)) slice.push_back(i);
      if (slice.empty()) return;
      for (size_t k = 0; Clock::now() < deadline && batches_left-- > 0; ++k) {
        Agent& agent = agents[slice[k % slice.size()]];
        int64_t now_ms = wall.NowMillis();
        std::vector<Row> rows = NextRows(agent, o.batch, o.checks_per_agent, now_ms);
        http::HttpClientRequest req;
        req.method = "POST";
        req.url = url + "/api/v1/reports";
        req.headers.Set("Authorization", "Bearer " + agent.token);
        req.headers.Set("Content-Type", "application/json");
        req.headers.Set("Content-Encoding", "zstd");
        req.body = ZstdCompress(BatchJson(agent, rows, now_ms));
        req.timeout = std::chrono::milliseconds(30'000);
        auto sent = Clock::now();
        auto resp = client->Do(req);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        if (resp.ok() && resp->status == 200) {
          mine.batches++;
          mine.results += o.batch;
          mine.latencies_ms.push_back(ms);
        } else {
          mine.errors++;
          mine.error_codes[resp.ok() ? resp->status : 0]++;
          // The agent would retry this batch; the bench reuses the numbers for the next one.
          agent.next_seq -= static_cast<uint64_t>(o.batch);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      total.batches += mine.batches;
      total.results += mine.results;
      total.errors += mine.errors;
      total.latencies_ms.insert(total.latencies_ms.end(), mine.latencies_ms.begin(), mine.latencies_ms.end());
      for (auto [code, n] : mine.error_codes) total.error_codes[code] += n;
    });
  }
  for (auto& t : threads) t.join();
  total.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return total;
}

// The raw SQLite rate for the same rows into the collector's results table (same indexes),
// 1000 rows per transaction, one prepared statement, no HTTP, no JSON.
StatusOr<double> Baseline(const Options& o, const std::string& dir, int64_t rows_wanted) {
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
CREATE INDEX results_by_received ON results (received_at_ms);
)sql"));
  SF_ASSIGN_OR_RETURN(sqlite::SqliteStatement ins,
                      db->Prepare("INSERT INTO results (agent_key, seq, check_name, target, status, summary, "
                                  "observed_at_ms, duration_ms, metrics_json, details_json, received_at_ms) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                                  "ON CONFLICT (agent_key, seq) DO NOTHING"));
  // The same row contents as the pushed batches, agent by agent in batch-sized runs.
  std::vector<uint64_t> next_seq(static_cast<size_t>(o.agents), 1);
  RealClock wall;
  const auto start = Clock::now();
  int64_t written = 0;
  size_t agent = 0;
  while (written < rows_wanted) {
    sqlite::Transaction tx(db.get());
    SF_RETURN_IF_ERROR(tx.Begin());
    for (int i = 0; i < 1000 && written < rows_wanted; i += o.batch) {
      int64_t now_ms = wall.NowMillis();
      Agent a{"", "", "", next_seq[agent]};
      std::vector<Row> rows = NextRows(a, o.batch, o.checks_per_agent, now_ms);
      next_seq[agent] = a.next_seq;
      for (const Row& r : rows) {
        ins.Reset();
        ins.Bind(1, static_cast<int64_t>(agent + 1))
            .Bind(2, static_cast<int64_t>(r.seq))
            .Bind(3, fmt::format("fs-{}", r.check))
            .Bind(4, fmt::format("/mnt/data{}", r.check))
            .Bind(5, static_cast<int64_t>(r.status))
            .Bind(6, Summary(r.check, r.status))
            .Bind(7, r.observed_at_ms)
            .Bind(8, int64_t{3})
            .Bind(9, MetricsJson(r.check, r.status))
            .Bind(10, Details(r.check))
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
  CLI::App app{"ingest_bench: collector ingest throughput and latency (loopback only)"};
  app.add_option("--url", o.url, "use a running collector (http://127.0.0.1:PORT) instead of an in-process one");
  app.add_option("--enroll-token", o.enroll_token, "enrolment token (required with --url)");
  app.add_option("--agents", o.agents, "simulated agents")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", o.batch, "results per batch")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--threads", o.threads, "client threads, each with a keep-alive connection")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds to push for")->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  app.add_option("--batches", o.batches, "stop after this many batches (0: run for --duration)")->capture_default_str();
  app.add_option("--checks", o.checks_per_agent, "distinct checks per agent")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--synchronous", o.synchronous, "in-process collector's storage.synchronous")
      ->check(CLI::IsMember({"FULL", "NORMAL"}))
      ->capture_default_str();
  app.add_option("--handler-threads", o.handler_threads, "in-process collector's http.handler_threads")
      ->check(CLI::Range(1, 1024))
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

  // The hand-written JSON must be what the collector accepts.
  {
    Agent probe{"a-probe", "", "probe", 1};
    auto decoded = protocol::DecodeReportBatch(BatchJson(probe, NextRows(probe, 3, 2, clock.NowMillis()), clock.NowMillis()));
    if (!decoded.ok()) {
      std::fprintf(stderr, "ingest_bench: bug: generated batch does not decode: %s\n", decoded.status().ToString().c_str());
      return 1;
    }
  }

  std::printf("ingest_bench: %s, %d agents, %d results/batch, %d client threads, %s, storage.synchronous=%s\n",
              o.url.empty() ? "in-process collector" : url.c_str(), o.agents, o.batch, o.threads,
              o.batches > 0 ? fmt::format("{} batches", o.batches).c_str() : fmt::format("{:.0f} s", o.duration_s).c_str(),
              o.synchronous.c_str());
  std::fflush(stdout);
  auto enrol_start = Clock::now();
  auto agents = EnrolAgents(o, url);
  if (!agents.ok()) {
    std::fprintf(stderr, "ingest_bench: enrolment failed: %s\n", agents.status().ToString().c_str());
    return 1;
  }
  std::printf("enrolled %d agents in %.2f s\n", o.agents,
              std::chrono::duration<double>(Clock::now() - enrol_start).count());
  std::fflush(stdout);

  RunResult run = Push(o, url, *agents);
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  const double rps = static_cast<double>(run.results) / run.seconds;
  std::printf("pushed    %lld results in %lld batches over %.2f s; %lld failed batches",
              static_cast<long long>(run.results), static_cast<long long>(run.batches), run.seconds,
              static_cast<long long>(run.errors));
  for (auto [code, n] : run.error_codes) std::printf(" [%s: %lld]", code == 0 ? "transport" : std::to_string(code).c_str(), static_cast<long long>(n));
  std::printf("\n");
  std::printf("collector %.0f results/s, %.1f batches/s\n", rps, static_cast<double>(run.batches) / run.seconds);
  std::printf("latency   p50 %.2f ms, p99 %.2f ms, max %.2f ms (per batch, request to ack)\n",
              Percentile(run.latencies_ms, 0.50), Percentile(run.latencies_ms, 0.99),
              run.latencies_ms.empty() ? 0.0 : run.latencies_ms.back());

  auto metrics_client = http::NewCurlHttpClient({});
  http::HttpClientRequest mr;
  mr.url = url + "/metrics";
  auto metrics = metrics_client->Do(mr);
  if (metrics.ok() && metrics->status == 200) {
    double commits = MetricValue(metrics->body, "steadfast_collector_storage_commits_total");
    double commit_sum = MetricValue(metrics->body, "steadfast_collector_storage_commit_duration_seconds_sum");
    if (commits > 0) {
      std::printf("storage   %.0f group commits, %.1f batches per commit, %.2f ms mean commit\n", commits,
                  static_cast<double>(run.batches) / commits, 1000.0 * commit_sum / commits);
    }
  }

  if (server) {
    server->Shutdown();
    sqlite::OpenOptions ro;
    ro.read_only = true;
    auto db = sqlite::SqliteDb::Open(dir + "/collector/collector.db", ro);
    if (db.ok()) {
      auto q = (*db)->Prepare("SELECT COUNT(*) FROM results");
      if (q.ok() && q->Step().value_or(false)) {
        std::printf("check     %lld rows stored for %lld acknowledged results%s\n",
                    static_cast<long long>(q->ColumnInt(0)), static_cast<long long>(run.results),
                    q->ColumnInt(0) == run.results ? "" : "  <-- MISMATCH");
      }
    }
  }

  if (o.baseline) {
    int64_t rows = std::max<int64_t>(std::min<int64_t>(run.results, o.baseline_max_rows), 10'000);
    auto base = Baseline(o, dir, rows);
    if (!base.ok()) {
      std::fprintf(stderr, "ingest_bench: baseline failed: %s\n", base.status().ToString().c_str());
      return 1;
    }
    std::printf("baseline  raw SQLite insert %.0f rows/s (%lld rows, 1000 per transaction, synchronous=%s)\n", *base,
                static_cast<long long>(rows), o.synchronous.c_str());
    std::printf("ratio     collector / raw SQLite = %.2f\n", rps / *base);
  }
  return run.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace steadfast::bench

int main(int argc, char** argv) { return steadfast::bench::Main(argc, argv); }
