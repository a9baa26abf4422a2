// A shared library loaded on first use (dlopen), for libraries most processes that could use
// them never do: linked, each one costs resident memory in every process (its relocations and
// symbol tables, and the libraries it pulls in). Used by steadfast-agent for libssl
// (common/tls/openssl_on_demand.cc) and libnetsnmp (agent/checks/net_snmp_client.cc).
//
// Code keeps calling the library's functions by their names: a file defines them with the
// library's own prototypes (SF_FORWARD_TO_LIBRARY below; the compiler checks each against the
// header) and each definition jumps to the real function, found in the loaded library on its
// first call. The binary then has no reference to the library, and --as-needed leaves it out.
#pragma once

#include <mutex>
#include <string>

#include "common/status.h"

namespace steadfast::dl {

class LazyLibrary {
 public:
  // `soname` as dlopen takes it ("libssl.so.3"); `package` names what installs it, for the
  // error.
  LazyLibrary(const char* soname, const char* package) : soname_(soname), package_(package) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // Loads the library on the first call (RTLD_NOW | RTLD_LOCAL: its functions are reached
  // through this handle only, never by name from the global scope, where the forwarding
  // definitions of the same names live). OK once loaded; the error names the library and its
  // package. Thread-safe.
  const Status& Load();
  // The address of `name` in the library, loading it first. Callers reach this only after
  // Load() succeeded; a library missing then, or without a symbol its own header declares, is
  // a broken installation: it says so on stderr and aborts.
  void* Symbol(const char* name);

 private:
  const char* soname_;
  const char* package_;
  void* handle_ = nullptr;
  Status status_;
  std::once_flag once_;
};

}  // namespace steadfast::dl

// Defines `ret name params` (the library's prototype) as a call of the real `name` in `library`
// (a LazyLibrary&) with `args`.
#define SF_FORWARD_TO_LIBRARY(library, ret, name, params, args)                   \
  extern "C" ret name params {                                                     \
    /* a function-local static: resolved once, thread-safely */                    \
    static const auto real = reinterpret_cast<decltype(&name)>((library).Symbol(#name)); \
    return real args;                                                              \
  }
