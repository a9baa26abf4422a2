#include "agent/agent_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "common/status.h"

namespace steadfast::agent {

void Counter::Increment(double by) {
  if (!(by >= 0)) return;  // also NaN
  value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  // The agent's bounds are constants; unsorted ones would make cumulative counts wrong.
  SF_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::Observe(double v) {
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[bucket];
  sum_ += v;
  ++count_;
}

prometheus::ClientMetric::Histogram Histogram::Snapshot() const {
  prometheus::ClientMetric::Histogram h;
  std::lock_guard<std::mutex> lock(mu_);
  h.sample_count = count_;
  h.sample_sum = sum_;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    prometheus::ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
    h.bucket.push_back(b);
  }
  return h;
}

void FillClientMetric(const Counter& c, prometheus::ClientMetric& out) {
  out.counter.value = c.Value();
}
void FillClientMetric(const Gauge& g, prometheus::ClientMetric& out) { out.gauge.value = g.Value(); }
void FillClientMetric(const Histogram& h, prometheus::ClientMetric& out) {
  out.histogram = h.Snapshot();
}

prometheus::MetricFamily MetricRegistry::Family::Collect() const {
  prometheus::MetricFamily f;
  f.name = name_;
  f.help = help_;
  f.type = type_;
  std::lock_guard<std::mutex> lock(mu_);
  CollectSeries(f.metric);
  return f;
}

MetricRegistry::MetricRegistry() = default;
MetricRegistry::~MetricRegistry() = default;

MetricRegistry::Family& MetricRegistry::Register(std::unique_ptr<Family> f) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& existing : families_) {
    // Names are constants of the agent's code: a duplicate is a bug, not bad input.
    SF_CHECK(existing->name() != f->name());
  }
  families_.push_back(std::move(f));
  return *families_.back();
}

MetricFamily<Counter>& MetricRegistry::AddCounter(std::string name, std::string help) {
  return static_cast<MetricFamily<Counter>&>(Register(std::make_unique<MetricFamily<Counter>>(
      std::move(name), std::move(help), prometheus::MetricType::Counter)));
}

MetricFamily<Gauge>& MetricRegistry::AddGauge(std::string name, std::string help) {
  return static_cast<MetricFamily<Gauge>&>(Register(std::make_unique<MetricFamily<Gauge>>(
      std::move(name), std::move(help), prometheus::MetricType::Gauge)));
}

MetricFamily<Histogram>& MetricRegistry::AddHistogram(std::string name, std::string help,
                                                      std::vector<double> bounds) {
  return static_cast<MetricFamily<Histogram>&>(
      Register(std::make_unique<MetricFamily<Histogram>>(
          std::move(name), std::move(help), prometheus::MetricType::Histogram, std::move(bounds))));
}

std::vector<prometheus::MetricFamily> MetricRegistry::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(families_.size());
  for (const auto& f : families_) out.push_back(f->Collect());
  return out;
}

namespace {

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
  } else {
    char buf[64];  // the shortest round-trip form of a double is at most 24 characters
    char* end = fmt::format_to(buf, "{}", v);
    out.append(buf, static_cast<size_t>(end - buf));
  }
}

// HELP text escapes \ and newline; label values also escape ".
void AppendEscaped(std::string& out, const std::string& s, bool quote) {
  if (s.find_first_of(quote ? "\\\n\"" : "\\\n") == std::string::npos) {
    out += s;  // the common case: nothing to escape
    return;
  }
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// name{labels[,extra="value"]} value
void AppendSample(std::string& out, const std::string& name, const std::string& suffix,
                  const std::vector<prometheus::ClientMetric::Label>& labels, const char* extra,
                  double extra_value, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || extra != nullptr) {
    out += '{';
    bool first = true;
    for (const auto& l : labels) {
      if (!first) out += ',';
      first = false;
      out += l.name;
      out += "=\"";
      AppendEscaped(out, l.value, true);
      out += '"';
    }
    if (extra != nullptr) {
      if (!first) out += ',';
      out += extra;
      out += "=\"";
      AppendValue(out, extra_value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}

const char* TypeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Untyped:
      break;
  }
  return "untyped";
}

}  // namespace

std::string ExpositionText(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  size_t series = 0;
  for (const prometheus::MetricFamily& f : families) series += f.metric.size();
  out.reserve(series * 96 + families.size() * 128);
  for (const prometheus::MetricFamily& f : families) {
    if (f.metric.empty()) continue;
    if (!f.help.empty()) {
      out += "# HELP " + f.name + ' ';
      AppendEscaped(out, f.help, false);
      out += '\n';
    }
    out += "# TYPE " + f.name + ' ' + TypeName(f.type) + '\n';
    for (const prometheus::ClientMetric& m : f.metric) {
      switch (f.type) {
        case prometheus::MetricType::Counter:
          AppendSample(out, f.name, "", m.label, nullptr, 0, m.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          AppendSample(out, f.name, "", m.label, nullptr, 0, m.gauge.value);
          break;
        case prometheus::MetricType::Untyped:
          AppendSample(out, f.name, "", m.label, nullptr, 0, m.untyped.value);
          break;
        case prometheus::MetricType::Summary:
          for (const auto& q : m.summary.quantile) {
            AppendSample(out, f.name, "", m.label, "quantile", q.quantile, q.value);
          }
          AppendSample(out, f.name, "_sum", m.label, nullptr, 0, m.summary.sample_sum);
          AppendSample(out, f.name, "_count", m.label, nullptr, 0,
                       static_cast<double>(m.summary.sample_count));
          break;
        case prometheus::MetricType::Histogram: {
          bool has_inf = false;
          for (const auto& b : m.histogram.bucket) {
            has_inf = has_inf || std::isinf(b.upper_bound);
            AppendSample(out, f.name, "_bucket", m.label, "le", b.upper_bound,
                         static_cast<double>(b.cumulative_count));
          }
          if (!has_inf) {  // the +Inf bucket is the total count
            AppendSample(out, f.name, "_bucket", m.label, "le",
                         std::numeric_limits<double>::infinity(),
                         static_cast<double>(m.histogram.sample_count));
          }
          AppendSample(out, f.name, "_sum", m.label, nullptr, 0, m.histogram.sample_sum);
          AppendSample(out, f.name, "_count", m.label, nullptr, 0,
                       static_cast<double>(m.histogram.sample_count));
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace steadfast::agent
