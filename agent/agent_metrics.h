// The agent's own metrics (counters, gauges, histograms by label set) and the Prometheus text
// exposition of them and of the check results (CheckMetrics).
//
// Why not prometheus-cpp, as the collector uses: libprometheus-cpp-core is a shared C++ library
// (Debian ships no static archive), and any shared C++ library makes the agent map libstdc++.so,
// which costs about 1.6 MB resident (its relocations and symbol tables are touched at start-up
// whatever the agent calls). The agent links libstdc++ statically instead (agent/CMakeLists.txt),
// so it keeps prometheus-cpp's header-only data model (prometheus::MetricFamily) and does the
// rest here. agent_metrics_test holds the exposition to prometheus-cpp's TextSerializer: both
// texts must parse to the same samples.
//
// Thread-safety: every method may be called from any thread. Values are atomics; adding a
// series and Collect() take the family's mutex.
#pragma once

#include <prometheus/metric_family.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace steadfast::agent {

using MetricLabels = std::map<std::string, std::string>;

class Counter {
 public:
  // `by` must not be negative (counters only go up); a negative step is ignored.
  void Increment(double by = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with the given upper bounds (sorted ascending; +Inf is implied), as
// Prometheus histograms: an observation v counts in every bucket whose bound is >= v.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  prometheus::ClientMetric::Histogram Snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more than bounds_ (+Inf)
  double sum_ = 0;
  uint64_t count_ = 0;
};

// One metric name with its series; series are created on first Add and live as long as the
// registry (the references Add returns stay valid).
template <typename T>
class MetricFamily;

class MetricRegistry {
 public:
  MetricRegistry();
  ~MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // Names and help are constants of the agent's code; a name registered twice is a bug
  // (SF_CHECK). Counter names end in _total (Prometheus naming).
  MetricFamily<Counter>& AddCounter(std::string name, std::string help);
  MetricFamily<Gauge>& AddGauge(std::string name, std::string help);
  // `bounds` for every series of the family.
  MetricFamily<Histogram>& AddHistogram(std::string name, std::string help,
                                        std::vector<double> bounds);

  // Every family in registration order, its series in label order.
  std::vector<prometheus::MetricFamily> Collect() const;

  class Family;  // the untyped part of MetricFamily<T>

 private:
  Family& Register(std::unique_ptr<Family> f);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

class MetricRegistry::Family {
 public:
  Family(std::string name, std::string help, prometheus::MetricType type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}
  virtual ~Family() = default;
  const std::string& name() const { return name_; }
  prometheus::MetricFamily Collect() const;

 protected:
  virtual void CollectSeries(std::vector<prometheus::ClientMetric>& out) const = 0;
  mutable std::mutex mu_;

 private:
  const std::string name_;
  const std::string help_;
  const prometheus::MetricType type_;
};

// The value of one series, as prometheus::ClientMetric holds it.
void FillClientMetric(const Counter& c, prometheus::ClientMetric& out);
void FillClientMetric(const Gauge& g, prometheus::ClientMetric& out);
void FillClientMetric(const Histogram& h, prometheus::ClientMetric& out);

template <typename T>
class MetricFamily final : public MetricRegistry::Family {
 public:
  MetricFamily(std::string name, std::string help, prometheus::MetricType type,
               std::vector<double> bounds = {})
      : Family(std::move(name), std::move(help), type), bounds_(std::move(bounds)) {}

  // The series with exactly these labels, created (at zero) the first time.
  T& Add(const MetricLabels& labels) {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<T>& slot = series_[labels];
    if (!slot) {
      if constexpr (std::is_same_v<T, Histogram>) {
        slot = std::make_unique<T>(bounds_);
      } else {
        slot = std::make_unique<T>();
      }
    }
    return *slot;
  }

 private:
  void CollectSeries(std::vector<prometheus::ClientMetric>& out) const override {
    for (const auto& [labels, series] : series_) {
      prometheus::ClientMetric m;
      for (const auto& [k, v] : labels) m.label.push_back({k, v});
      FillClientMetric(*series, m);
      out.push_back(std::move(m));
    }
  }
  const std::vector<double> bounds_;
  std::map<MetricLabels, std::unique_ptr<T>> series_;  // guarded by mu_
};

// The text exposition format 0.0.4 of `families`: # HELP and # TYPE, then the samples
// (histograms as _bucket{le=...}, _sum and _count; summaries as quantiles, _sum and _count).
// Label values and help text are escaped; values print in the shortest form that reads back
// to the same double, NaN as NaN and infinities as +Inf/-Inf.
std::string ExpositionText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace steadfast::agent
