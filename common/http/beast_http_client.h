// BeastHttpClient: the HttpClient the agent uses, on Boost.Beast/Asio and OpenSSL only, so a
// binary that talks HTTP(S) does not map libcurl and its dependency chain (gnutls, krb5,
// ldap, ssh2, nghttp2, ...). Beast stays inside beast_http_client.cc.
//
// What it does, and where it agrees with NewCurlHttpClient (the conformance suite in
// http_client_test.cc holds both to it):
//   - HTTP/1.1 over http:// and https://; GET/POST/PUT/DELETE/HEAD/any token method; bodies
//     framed by Content-Length, responses by Content-Length, chunked, or connection close.
//   - Keep-alive: finished connections go back to a small pool keyed by scheme, host, port
//     and proxy. A pooled connection that turns out closed (or reset) before any byte of the
//     response arrived is replaced by a fresh one once, transparently.
//   - Timeouts: HttpClientOptions::connect_timeout covers resolving, TCP connect, the proxy
//     CONNECT and the TLS handshake; request.timeout covers the whole call. Either one
//     running out is DeadlineExceeded.
//   - TLS 1.2+ with certificate and host name (or IP) verification, SNI, an extra CA file,
//     an optional client certificate, or no verification at all (verify_tls=false). The
//     system CAs are read on demand from OpenSSL's hashed certificate directory
//     (SSL_CERT_DIR / SSL_CERT_FILE are honoured), and the TLS context is made on the first
//     https request, so an http-only process never initialises libssl.
//   - Proxies from the environment, see http_client_proxy.h: absolute-form requests for
//     http, CONNECT tunnels for https, Basic credentials from the proxy URL.
//   - Response bodies over max_response_bytes fail with ResourceExhausted.
// Host names are resolved on a short-lived thread so that a hung DNS server cannot hold a
// call past its deadline (as libcurl's threaded resolver does); IP literals skip that.
// Thread-safe: each call works on its own connection; only the pool is shared.
#pragma once

#include <memory>

#include "common/http/http_client.h"

namespace steadfast::http {

std::unique_ptr<HttpClient> NewBeastHttpClient(const HttpClientOptions& options);

}  // namespace steadfast::http
