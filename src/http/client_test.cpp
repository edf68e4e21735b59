#include "http/client.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "http/server.h"
#include "http/testing.h"

namespace paygate::http {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using testing::IoThreads;
using testing::run_on;

bool forbidden(const char* text) { return is_forbidden_target(asio::ip::make_address(text)); }

TEST(ParseUrl, AcceptsHttpAndHttps) {
  auto plain = parse_url("http://example.com/notify?a=1");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->https);
  EXPECT_EQ(plain->host, "example.com");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/notify?a=1");

  auto secure = parse_url("HTTPS://Shop.Example.COM:8443/cb#frag");
  ASSERT_TRUE(secure.ok());
  EXPECT_TRUE(secure->https);
  EXPECT_EQ(secure->host, "shop.example.com");
  EXPECT_EQ(secure->port, 8443);
  EXPECT_EQ(secure->target, "/cb");
}

TEST(ParseUrl, DefaultsTheTarget) {
  EXPECT_EQ(parse_url("https://example.com")->target, "/");
  EXPECT_EQ(parse_url("https://example.com")->port, 443);
  EXPECT_EQ(parse_url("http://example.com:81")->target, "/");
  EXPECT_EQ(parse_url("http://example.com?x=1")->target, "/?x=1");
  EXPECT_EQ(parse_url("http://example.com#top")->target, "/");
}

TEST(ParseUrl, Ipv6Literals) {
  auto url = parse_url("http://[::1]:8080/x");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/x");
  auto no_port = parse_url("https://[2001:db8::1]");
  ASSERT_TRUE(no_port.ok());
  EXPECT_EQ(no_port->host, "2001:db8::1");
  EXPECT_EQ(no_port->port, 443);
}

TEST(ParseUrl, RejectsBadUrls) {
  for (const char* bad : {"", "example.com/x", "ftp://example.com/", "file:///etc/passwd", "http://", "http:///x",
                          "http://:80/", "http://user@host/", "http://user:pw@host/", "http://host:/",
                          "http://host:0/", "http://host:65536/", "http://host:8o/", "http://host:123456/",
                          "http://[::1/", "http://[zz::1]/", "http://[::1]x/", "http://::1/", "http://ho st/",
                          "http://host/a b", "http://host/\r\nX-Injected: 1", "http://h\xC3\xA9st/"}) {
    auto url = parse_url(bad);
    EXPECT_FALSE(url.ok()) << bad;
    if (!url.ok()) {
      EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
}

// A host that ends in a number is an IPv4 address (as browsers read it, WHATWG URL), and getaddrinfo reads
// 127.1, 2130706433, 0x7f000001 and 0177.0.0.1 as 127.0.0.1: only the dotted quad, which the submit-time check
// sees as the address it is, is accepted. A black-box audit had these pass the check at submit (then every
// attempt was refused at send time, and the merchant never heard why).
TEST(ParseUrl, ANumericHostMustBeADottedQuad) {
  for (const char* bad : {"http://127.1/", "http://127.0.1/", "http://2130706433/", "http://0x7f000001/",
                          "http://017700000001/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://0/",
                          "http://127.0.0.1./", "http://1.2.3.4.5/", "http://256.0.0.1/", "http://example.123/",
                          "http://a.0x1f/", "http://08.8.8.8/"}) {
    auto url = parse_url(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_NE(url.error().message.find("dotted"), std::string::npos) << bad << ": " << url.error().message;
  }
  for (const char* ok : {"http://8.8.8.8/", "http://127.0.0.1:8080/", "http://0.0.0.0/", "http://1host.example/",
                         "http://123.example/", "http://host.example./", "http://0x.example/", "http://a1/"}) {
    EXPECT_TRUE(parse_url(ok).ok()) << ok;
  }
}

TEST(ForbiddenTarget, PrivateAndSpecialAddresses) {
  for (const char* addr :
       {"127.0.0.1", "127.1.2.3", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "100.127.255.255", "224.0.0.1", "239.255.255.250", "0.0.0.0",
        "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.1.2.3", "::ffff:192.168.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1",
        // Documentation ranges (RFC 5737, 3849), never a real target, and where a test network may put its hosts
        // (this CI machine's own address is 192.0.2.2); the discard prefix (RFC 6666); IPv4-translated (RFC 2765).
        "192.0.2.2", "198.51.100.1", "203.0.113.1", "2001:db8::1", "100::1", "::ffff:192.0.2.2",
        "::ffff:0:127.0.0.1", "::ffff:0:a00:1"}) {
    EXPECT_TRUE(forbidden(addr)) << addr;
  }
}

TEST(ForbiddenTarget, PublicAddresses) {
  for (const char* addr : {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
                           "11.0.0.1", "223.255.255.255", "2001:4860::1", "2606:4700::1111", "::ffff:8.8.8.8",
                           "64:ff9b::808:808", "192.0.3.1", "198.51.99.1", "203.0.114.1", "2001:db9::1",
                           "100:0:0:1::1"}) {
    EXPECT_FALSE(forbidden(addr)) << addr;
  }
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest() : tls_(make_client_tls_context()) {
    router_.add(bhttp::verb::post, "/notify", "test.notify", [](Request& req) -> asio::awaitable<Response> {
      std::string body = "got " + req.raw.body() + " as " + std::string(req.raw[bhttp::field::content_type]) +
                         " from " + std::string(req.raw[bhttp::field::user_agent]);
      co_return make_response(req, bhttp::status::accepted, "text/plain", std::move(body));
    });
    router_.add(bhttp::verb::get, "/big", "test.big", [](Request& req) -> asio::awaitable<Response> {
      co_return make_response(req, bhttp::status::ok, "text/plain", std::string(10'000, 'x'));
    });
  }

  void SetUp() override {
    server_ = std::make_unique<Server>(threads_.io, ServerConfig{}, router_, nullptr);
    auto bound = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    port_ = bound->port();
  }

  void TearDown() override {
    server_->stop_accepting();
    threads_.stop();
  }

  std::string local_url(std::string_view path, std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  Result<ClientResponse> run_fetch(ClientRequest request) { return run_fetch(request, tls_); }
  Result<ClientResponse> run_fetch(ClientRequest request, asio::ssl::context& tls) {
    // co_spawn needs a default-constructible result, hence the optional.
    auto out = run_on(threads_.io.get_executor(),
                      [&]() -> asio::awaitable<std::optional<Result<ClientResponse>>> {
                        co_return co_await fetch(threads_.io.get_executor(), tls, request);
                      });
    if (!out) return make_error(ErrorCode::kInternal, "no result");
    return std::move(*out);
  }

  Router router_;
  IoThreads threads_{2};
  asio::ssl::context tls_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(FetchTest, PostsAndReturnsStatusAndBody) {
  ClientRequest request;
  request.url = local_url("/notify");
  request.body = "a=1&b=2";
  request.allow_private_targets = true;
  auto res = run_fetch(request);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 202u);
  EXPECT_EQ(res->body, "got a=1&b=2 as application/x-www-form-urlencoded from paygate-notify/1");
  EXPECT_GE(res->latency_ms, 0);
}

TEST_F(FetchTest, ReportsHttpErrorStatusesAsResponses) {
  ClientRequest request;
  request.url = local_url("/missing");
  request.allow_private_targets = true;
  auto res = run_fetch(request);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 404u);
}

TEST_F(FetchTest, RefusesPrivateTargets) {
  ClientRequest request;
  request.url = local_url("/notify");
  auto res = run_fetch(request);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(res.error().message.find("127.0.0.1"), std::string::npos) << res.error().message;
}

TEST_F(FetchTest, RejectsBadUrlsAndMethods) {
  ClientRequest request;
  request.url = "ftp://127.0.0.1/";
  auto bad_url = run_fetch(request);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().code, ErrorCode::kInvalidArgument);
  request.url = local_url("/notify");
  request.method = "FROB LICATE";
  auto bad_method = run_fetch(request);
  ASSERT_FALSE(bad_method.ok());
  EXPECT_EQ(bad_method.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FetchTest, ConnectionRefusedIsUnavailable) {
  uint16_t closed_port = 0;
  {
    tcp::acceptor probe(threads_.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  ClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
  request.allow_private_targets = true;
  request.connect_timeout_ms = 2'000;
  auto res = run_fetch(request);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("connect"), std::string::npos) << res.error().message;
}

TEST_F(FetchTest, TotalTimeoutAgainstASilentServer) {
  // Listens but never accepts: the kernel completes the handshake, nobody ever answers.
  tcp::acceptor silent(threads_.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  request.allow_private_targets = true;
  request.total_timeout_ms = 300;
  auto started = std::chrono::steady_clock::now();
  auto res = run_fetch(request);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("timeout"), std::string::npos) << res.error().message;
  EXPECT_LT(took, 10s);
}

TEST_F(FetchTest, OversizedResponseIsAnError) {
  ClientRequest request;
  request.url = local_url("/big");
  request.method = "GET";
  request.allow_private_targets = true;
  request.response_bytes_max = 1'000;
  auto res = run_fetch(request);
  ASSERT_FALSE(res.ok()) << res->status << " " << res->body.size();
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("exceeds"), std::string::npos) << res.error().message;

  request.response_bytes_max = 10'000;
  auto fits = run_fetch(request);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->body.size(), 10'000u);
}

TEST_F(FetchTest, TlsAgainstAPlainServerFailsInTheTlsStage) {
  ClientRequest request;
  request.url = local_url("/notify", "https");
  request.allow_private_targets = true;
  auto res = run_fetch(request);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("tls"), std::string::npos) << res.error().message;
}

// A self-signed certificate (its own CA) with the given subjectAltName, e.g. "IP:127.0.0.1".
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

std::string drain_bio(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

TestCertificate make_test_certificate(const char* subject_alt_name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("paygate test"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, subject_alt_name},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());

  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCertificate out{drain_bio(cert_bio), drain_bio(key_bio)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// A one-shot HTTPS server on 127.0.0.1 that answers "secure <target>".
class TlsServer {
 public:
  TlsServer(asio::io_context& io, const TestCertificate& certificate)
      : context_(asio::ssl::context::tls_server),
        acceptor_(asio::make_strand(io), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    context_.use_certificate_chain(asio::buffer(certificate.cert_pem));
    context_.use_private_key(asio::buffer(certificate.key_pem), asio::ssl::context::pem);
    done_ = asio::co_spawn(acceptor_.get_executor(), serve_once(), asio::use_future);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Waits for the exchange to end (the client may have refused the handshake).
  void wait() { done_.wait_for(30s); }

 private:
  asio::awaitable<void> serve_once() {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), context_);
    beast::get_lowest_layer(stream).expires_after(10s);
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::flat_buffer buffer;
    RawRequest req;
    co_await bhttp::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    Response res{bhttp::status::ok, 11};
    res.body() = "secure " + std::string(req.target());
    res.keep_alive(false);
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::ssl::context context_;
  tcp::acceptor acceptor_;
  std::future<void> done_;
};

TEST_F(FetchTest, TlsWithATrustedCertificate) {
  TestCertificate certificate = make_test_certificate("IP:127.0.0.1");
  TlsServer tls_server(threads_.io, certificate);
  asio::ssl::context trusting = make_client_tls_context();
  trusting.add_certificate_authority(asio::buffer(certificate.cert_pem));
  ClientRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(tls_server.port()) + "/cb?x=1";
  request.allow_private_targets = true;
  auto res = run_fetch(request, trusting);
  tls_server.wait();
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, "secure /cb?x=1");
}

TEST_F(FetchTest, TlsRejectsAnUntrustedCertificate) {
  TestCertificate certificate = make_test_certificate("IP:127.0.0.1");
  TlsServer tls_server(threads_.io, certificate);
  ClientRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(tls_server.port()) + "/";
  request.allow_private_targets = true;
  auto res = run_fetch(request);  // the system trust store does not know our certificate
  tls_server.wait();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("tls"), std::string::npos) << res.error().message;
  // Why, in OpenSSL's words, for the merchant reading the attempt's record.
  EXPECT_NE(res.error().message.find("(self-signed certificate)"), std::string::npos) << res.error().message;
}

TEST_F(FetchTest, TlsRejectsACertificateForAnotherHost) {
  TestCertificate certificate = make_test_certificate("DNS:notify.example.com");
  TlsServer tls_server(threads_.io, certificate);
  asio::ssl::context trusting = make_client_tls_context();
  trusting.add_certificate_authority(asio::buffer(certificate.cert_pem));
  ClientRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(tls_server.port()) + "/";
  request.allow_private_targets = true;
  auto res = run_fetch(request, trusting);
  tls_server.wait();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message.find("tls"), std::string::npos) << res.error().message;
  EXPECT_NE(res.error().message.find("(hostname mismatch)"), std::string::npos) << res.error().message;
}

}  // namespace
}  // namespace paygate::http
