// Making sure OpenSSL can be used before the first TLS operation.
//
// Most binaries link libssl and libcrypto, and LoadOpenSsl() is a no-op for them
// (openssl_linked.cc). steadfast-agent does not: mapping the two libraries costs about 1.7 MB
// resident in every process that links them, used or not (bench/agent_cycle.sh; most agents
// talk plain HTTP to a collector on the local network and run no https probe), so the agent
// links openssl_on_demand.cc instead, which defines the OpenSSL functions the code calls and
// loads libssl.so.3 the first time one of them is needed.
//
// Callers about to use TLS call LoadOpenSsl() first, so that a missing library is an error they
// can report rather than an abort inside OpenSSL's first call.
#pragma once

#include "common/status.h"

namespace steadfast::tls {

// OK when OpenSSL is usable: linked, or loaded now or earlier. Thread-safe; the first call in an
// agent loads the libraries, later calls return its outcome.
Status LoadOpenSsl();

}  // namespace steadfast::tls
