// LoadOpenSsl() for binaries that link libssl and libcrypto (see openssl_loader.h). Weak, so
// that steadfast-agent's openssl_on_demand.cc takes its place.
#include "common/tls/openssl_loader.h"

namespace steadfast::tls {

__attribute__((weak)) Status LoadOpenSsl() { return OkStatus(); }

}  // namespace steadfast::tls
