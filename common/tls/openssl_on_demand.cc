// OpenSSL loaded on first use, for steadfast-agent (see openssl_loader.h for why).
//
// This file defines, with OpenSSL's own prototypes (the compiler checks them against the
// headers), every OpenSSL function the agent's code calls: Boost.Asio's ssl::stream and
// ssl::context, the Beast HTTP client and server, and the http check's certificate reading.
// Each one finds the real function in libssl.so.3 (which brings libcrypto.so.3) on its first
// call and jumps to it from then on. The agent links this file instead of the libraries, so it
// maps neither until TLS is used; --as-needed then leaves them out of its DT_NEEDED.
//
// A new OpenSSL call in code the agent links fails the agent's link with "undefined reference":
// add it to the list below.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/dl/lazy_library.h"
#include "common/tls/openssl_loader.h"

#define SF_STRINGIFY2(x) #x
#define SF_STRINGIFY(x) SF_STRINGIFY2(x)

namespace steadfast::tls {
namespace {

// The library the headers we compiled against describe: its soname carries the major version.
// libcrypto comes with it, and dlsym on libssl's handle finds its functions too.
dl::LazyLibrary& LibSsl() {
  static dl::LazyLibrary lib("libssl.so." SF_STRINGIFY(OPENSSL_VERSION_MAJOR), "libssl3");
  return lib;
}

}  // namespace

Status LoadOpenSsl() { return LibSsl().Load().WithContext("TLS"); }

}  // namespace steadfast::tls

#define SF_OPENSSL(ret, name, params, args) \
  SF_FORWARD_TO_LIBRARY(steadfast::tls::LibSsl(), ret, name, params, args)

// libssl
SF_OPENSSL(const SSL_METHOD*, TLS_method, (void), ())
SF_OPENSSL(const SSL_METHOD*, TLS_client_method, (void), ())
SF_OPENSSL(const SSL_METHOD*, TLS_server_method, (void), ())
SF_OPENSSL(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* meth), (meth))
SF_OPENSSL(void, SSL_CTX_free, (SSL_CTX* ctx), (ctx))
SF_OPENSSL(long, SSL_CTX_ctrl, (SSL_CTX* ctx, int cmd, long larg, void* parg), (ctx, cmd, larg, parg))
SF_OPENSSL(uint64_t, SSL_CTX_set_options, (SSL_CTX* ctx, uint64_t op), (ctx, op))
SF_OPENSSL(void*, SSL_CTX_get_ex_data, (const SSL_CTX* ctx, int idx), (ctx, idx))
SF_OPENSSL(int, SSL_CTX_set_ex_data, (SSL_CTX* ctx, int idx, void* data), (ctx, idx, data))
SF_OPENSSL(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX* ctx, const char* file), (ctx, file))
SF_OPENSSL(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX* ctx, const char* file, int type),
           (ctx, file, type))
SF_OPENSSL(int, SSL_CTX_check_private_key, (const SSL_CTX* ctx), (ctx))
SF_OPENSSL(void, SSL_CTX_set_verify, (SSL_CTX* ctx, int mode, SSL_verify_cb cb), (ctx, mode, cb))
SF_OPENSSL(SSL_verify_cb, SSL_CTX_get_verify_callback, (const SSL_CTX* ctx), (ctx))
SF_OPENSSL(void, SSL_CTX_set_default_passwd_cb_userdata, (SSL_CTX* ctx, void* u), (ctx, u))
SF_OPENSSL(void*, SSL_CTX_get_default_passwd_cb_userdata, (SSL_CTX* ctx), (ctx))
SF_OPENSSL(int, SSL_CTX_load_verify_locations, (SSL_CTX* ctx, const char* file, const char* path),
           (ctx, file, path))
SF_OPENSSL(int, SSL_CTX_load_verify_file, (SSL_CTX* ctx, const char* file), (ctx, file))
SF_OPENSSL(int, SSL_CTX_load_verify_dir, (SSL_CTX* ctx, const char* path), (ctx, path))
SF_OPENSSL(SSL*, SSL_new, (SSL_CTX* ctx), (ctx))
SF_OPENSSL(void, SSL_free, (SSL* ssl), (ssl))
SF_OPENSSL(long, SSL_ctrl, (SSL* ssl, int cmd, long larg, void* parg), (ssl, cmd, larg, parg))
SF_OPENSSL(void*, SSL_get_ex_data, (const SSL* ssl, int idx), (ssl, idx))
SF_OPENSSL(int, SSL_set_ex_data, (SSL* ssl, int idx, void* data), (ssl, idx, data))
SF_OPENSSL(void, SSL_set_bio, (SSL* ssl, BIO* rbio, BIO* wbio), (ssl, rbio, wbio))
SF_OPENSSL(int, SSL_connect, (SSL* ssl), (ssl))
SF_OPENSSL(int, SSL_accept, (SSL* ssl), (ssl))
SF_OPENSSL(int, SSL_read, (SSL* ssl, void* buf, int num), (ssl, buf, num))
SF_OPENSSL(int, SSL_write, (SSL* ssl, const void* buf, int num), (ssl, buf, num))
SF_OPENSSL(int, SSL_shutdown, (SSL* ssl), (ssl))
SF_OPENSSL(int, SSL_get_shutdown, (const SSL* ssl), (ssl))
SF_OPENSSL(int, SSL_get_error, (const SSL* ssl, int ret), (ssl, ret))
SF_OPENSSL(long, SSL_get_verify_result, (const SSL* ssl), (ssl))
SF_OPENSSL(X509*, SSL_get1_peer_certificate, (const SSL* ssl), (ssl))
SF_OPENSSL(X509_VERIFY_PARAM*, SSL_get0_param, (SSL* ssl), (ssl))

// libcrypto
SF_OPENSSL(unsigned long, ERR_get_error, (void), ())
SF_OPENSSL(void, ERR_clear_error, (void), ())
SF_OPENSSL(const char*, ERR_reason_error_string, (unsigned long e), (e))
SF_OPENSSL(const BIO_METHOD*, BIO_s_mem, (void), ())
SF_OPENSSL(BIO*, BIO_new, (const BIO_METHOD* type), (type))
SF_OPENSSL(int, BIO_free, (BIO* b), (b))
SF_OPENSSL(int, BIO_read, (BIO* b, void* data, int len), (b, data, len))
SF_OPENSSL(int, BIO_write, (BIO* b, const void* data, int len), (b, data, len))
SF_OPENSSL(long, BIO_ctrl, (BIO* b, int cmd, long larg, void* parg), (b, cmd, larg, parg))
SF_OPENSSL(size_t, BIO_ctrl_pending, (BIO* b), (b))
SF_OPENSSL(int, BIO_new_bio_pair, (BIO** bio1, size_t writebuf1, BIO** bio2, size_t writebuf2),
           (bio1, writebuf1, bio2, writebuf2))
SF_OPENSSL(void, X509_free, (X509* x), (x))
SF_OPENSSL(X509_NAME*, X509_get_subject_name, (const X509* x), (x))
SF_OPENSSL(X509_NAME*, X509_get_issuer_name, (const X509* x), (x))
SF_OPENSSL(const ASN1_TIME*, X509_get0_notBefore, (const X509* x), (x))
SF_OPENSSL(const ASN1_TIME*, X509_get0_notAfter, (const X509* x), (x))
SF_OPENSSL(int, X509_NAME_print_ex, (BIO* out, const X509_NAME* nm, int indent, unsigned long flags),
           (out, nm, indent, flags))
SF_OPENSSL(const char*, X509_verify_cert_error_string, (long n), (n))
SF_OPENSSL(const char*, X509_get_default_cert_file_env, (void), ())
SF_OPENSSL(const char*, X509_get_default_cert_dir_env, (void), ())
SF_OPENSSL(const char*, X509_get_default_cert_dir, (void), ())
SF_OPENSSL(void, X509_VERIFY_PARAM_set_hostflags, (X509_VERIFY_PARAM* param, unsigned int flags),
           (param, flags))
SF_OPENSSL(int, X509_VERIFY_PARAM_set1_host, (X509_VERIFY_PARAM* param, const char* name,
                                              size_t namelen),
           (param, name, namelen))
SF_OPENSSL(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM* param, const char* ipasc),
           (param, ipasc))
SF_OPENSSL(int, ASN1_TIME_to_tm, (const ASN1_TIME* s, struct tm* tm), (s, tm))
