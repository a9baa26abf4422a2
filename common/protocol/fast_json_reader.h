// FastJsonReader: a strict JSON reader for the fast path of protocol::DecodeReportBatch that
// drives a handler with nlohmann's SAX interface (null, boolean, number_integer,
// number_unsigned, number_float, string, start_object, key, end_object, start_array,
// end_array), in place of nlohmann::json::sax_parse, whose lexer reads a byte at a time and
// was most of the cost of decoding a report batch.
//
// Contract, checked by protocol_test.cc against nlohmann on generated and mutated input:
// Read() returns true only for a document nlohmann's strict parser accepts, after sending the
// handler exactly the events, with the same values, that nlohmann::json::sax_parse sends.
// For anything else it returns false — including valid JSON outside its subset: \u escapes,
// a byte-order mark, integers beyond 64 bits, nesting deeper than kMaxDepth — and the caller
// falls back to nlohmann. handler_refused() tells a handler's own "stop" from the reader
// giving up.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace steadfast::protocol {

template <typename Handler>
class FastJsonReader {
 public:
  static constexpr int kMaxDepth = 64;

  FastJsonReader(std::string_view text, Handler* handler)
      : p_(text.data()), end_(text.data() + text.size()), h_(handler) {}

  bool Read() {
    if (!Value(0)) return false;
    SkipSpace();
    return p_ == end_;
  }

  // True when Read() failed because a handler callback returned false.
  bool handler_refused() const { return refused_; }

 private:
  bool Call(bool handler_result) {
    if (!handler_result) refused_ = true;
    return handler_result;
  }

  // JSON whitespace: space, tab, line feed, carriage return.
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Value(int depth) {
    SkipSpace();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return Object(depth);
      case '[': return Array(depth);
      case '"':
        if (!String(&str_)) return false;
        return Call(h_->string(str_));
      case 't':
        if (!Literal("true")) return false;
        return Call(h_->boolean(true));
      case 'f':
        if (!Literal("false")) return false;
        return Call(h_->boolean(false));
      case 'n':
        if (!Literal("null")) return false;
        return Call(h_->null());
      default: return Number();
    }
  }

  bool Object(int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '{'
    if (!Call(h_->start_object(static_cast<std::size_t>(-1)))) return false;
    SkipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return Call(h_->end_object());
    }
    while (true) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') return false;
      if (!String(&key_)) return false;
      if (!Call(h_->key(key_))) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return Call(h_->end_object());
    }
  }

  bool Array(int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '['
    if (!Call(h_->start_array(static_cast<std::size_t>(-1)))) return false;
    SkipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return Call(h_->end_array());
    }
    while (true) {
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return Call(h_->end_array());
    }
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

  // Length of the well-formed UTF-8 sequence (Unicode table 3-7, the ranges nlohmann accepts)
  // starting at p, or 0.
  size_t Utf8Length(const char* p) const {
    const size_t left = static_cast<size_t>(end_ - p);
    const auto b = [p](size_t i) { return static_cast<unsigned char>(p[i]); };
    const unsigned char c = b(0);
    if (InRange(c, 0xC2, 0xDF)) return left >= 2 && InRange(b(1), 0x80, 0xBF) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3) return 0;
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
      return InRange(b(1), lo, hi) && InRange(b(2), 0x80, 0xBF) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4) return 0;
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
      return InRange(b(1), lo, hi) && InRange(b(2), 0x80, 0xBF) && InRange(b(3), 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
  }

  // A string at p_ (on its opening quote) into *out, escapes resolved.
  bool String(std::string* out) {
    out->clear();
    ++p_;  // opening quote
    const char* run = p_;  // start of the bytes not yet copied
    while (true) {
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out->append(run, p_);
        ++p_;
        return true;
      }
      if (c == '\\') {
        out->append(run, p_);
        if (++p_ == end_) return false;
        switch (*p_) {
          case '"': out->push_back('"'); break;
          case '\\': out->push_back('\\'); break;
          case '/': out->push_back('/'); break;
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          default: return false;  // \u (left to nlohmann) or not an escape at all
        }
        run = ++p_;
        continue;
      }
      if (c < 0x20) return false;  // control characters must be escaped
      if (c < 0x80) {
        ++p_;
        continue;
      }
      const size_t n = Utf8Length(p_);
      if (n == 0) return false;
      p_ += n;
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?  as nlohmann's lexer reads it:
  // without fraction or exponent an integer (signed if negative, else unsigned), otherwise a
  // double, correctly rounded like strtod.
  bool Number() {
    const char* start = p_;
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ == end_ || !IsDigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && IsDigit(*p_)) return false;  // no leading zeros
    } else {
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (is_float) {
      double v = 0;
      auto [ptr, ec] = std::from_chars(start, p_, v);
      // Out of range either way (overflow, or underflow where strtod and from_chars differ
      // in what they report): nlohmann decides.
      if (ec != std::errc() || ptr != p_ || !std::isfinite(v)) return false;
      if (v == 0 && !ZeroDigits(start, p_)) return false;
      return Call(h_->number_float(v, empty_));
    }
    if (negative) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(start, p_, v);
      if (ec != std::errc() || ptr != p_) return false;  // below INT64_MIN: nlohmann reads a double
      return Call(h_->number_integer(v));
    }
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(start, p_, v);
    if (ec != std::errc() || ptr != p_) return false;  // above UINT64_MAX: nlohmann reads a double
    return Call(h_->number_unsigned(v));
  }

  // True if the mantissa of the number text is all zeros (so 0 is its exact value, not an
  // underflow).
  static bool ZeroDigits(const char* p, const char* end) {
    for (; p != end && *p != 'e' && *p != 'E'; ++p) {
      if (*p >= '1' && *p <= '9') return false;
    }
    return true;
  }

  const char* p_;
  const char* end_;
  Handler* h_;
  bool refused_ = false;
  std::string str_;
  std::string key_;
  const std::string empty_;
};

}  // namespace steadfast::protocol
