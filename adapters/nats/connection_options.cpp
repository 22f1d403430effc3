#include "adapters/nats/connection_options.hpp"

#include <vector>

namespace psycho::nats {

std::string describe(std::string_view what, natsStatus status) {
  std::string text = std::string(what) + " failed: " + natsStatus_GetText(status);
  // nats.c keeps a more specific message (a file name, an SSL reason) per thread.
  if (const char* detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0') {
    text += " (";
    text += detail;
    text += ")";
  }
  return text;
}

namespace {

// Applies one setting; the first failure is kept and later steps are skipped.
class Steps {
 public:
  template <class F>
  Steps& then(std::string_view what, F&& apply) {
    if (error_.empty()) {
      if (const natsStatus s = apply(); s != NATS_OK) error_ = describe(what, s);
    }
    return *this;
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

Result<OptionsPtr> make_options(const NatsConfig& c, const ConnectionCallbacks& cb) {
  natsOptions* raw = nullptr;
  if (const natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return fail("nats: " + describe("creating connection options", s));
  }
  OptionsPtr opts(raw);
  std::vector<const char*> servers;
  for (const auto& url : c.servers) servers.push_back(url.c_str());
  natsOptions* o = opts.get();
  const auto ms = [](std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()); };

  Steps steps;
  steps
      .then("servers",
            [&] {
              return natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size()));
            })
      .then("name", [&] { return natsOptions_SetName(o, c.name.c_str()); })
      // What this gateway publishes must not come back to it (the loop rules in docs/architecture.md).
      .then("no echo", [&] { return natsOptions_SetNoEcho(o, true); })
      .then("connect timeout", [&] { return natsOptions_SetTimeout(o, ms(c.connect_timeout)); })
      .then("reconnect", [&] { return natsOptions_SetAllowReconnect(o, true); })
      .then("reconnect attempts",
            [&] { return natsOptions_SetMaxReconnect(o, c.reconnect.max_attempts); })
      .then("reconnect wait", [&] { return natsOptions_SetReconnectWait(o, ms(c.reconnect.wait)); })
      .then("reconnect jitter",
            [&] {
              return natsOptions_SetReconnectJitter(o, ms(c.reconnect.jitter),
                                                    ms(c.reconnect.jitter));
            })
      .then("reconnect buffer",
            [&] {
              return natsOptions_SetReconnectBufSize(o, static_cast<int>(c.reconnect.buffer_size));
            })
      // Subscriptions share the library's delivery pool: thousands of subjects must not
      // mean thousands of threads.
      .then("delivery pool", [&] { return natsOptions_UseGlobalMessageDelivery(o, true); })
      // Start even when NATS is down; /readyz reports it until the first connect.
      .then("retry on failed connect",
            [&] { return natsOptions_SetRetryOnFailedConnect(o, true, cb.connected, cb.closure); })
      .then("disconnected callback",
            [&] { return natsOptions_SetDisconnectedCB(o, cb.disconnected, cb.closure); })
      .then("reconnected callback",
            [&] { return natsOptions_SetReconnectedCB(o, cb.reconnected, cb.closure); })
      .then("closed callback", [&] { return natsOptions_SetClosedCB(o, cb.closed, cb.closure); })
      .then("error handler", [&] { return natsOptions_SetErrorHandler(o, cb.error, cb.closure); });

  if (!c.user.empty()) {
    steps.then("user",
               [&] { return natsOptions_SetUserInfo(o, c.user.c_str(), c.password.c_str()); });
  }
  if (!c.token.empty())
    steps.then("token", [&] { return natsOptions_SetToken(o, c.token.c_str()); });
  if (!c.creds_file.empty()) {
    steps.then("creds_file", [&] {
      return natsOptions_SetUserCredentialsFromFiles(o, c.creds_file.c_str(), nullptr);
    });
  }
  if (!c.nkey_seed_file.empty()) {
    steps.then("nkey_seed_file", [&] {
      return natsOptions_SetNKeyFromSeed(o, c.nkey.c_str(), c.nkey_seed_file.c_str());
    });
  }
  if (c.tls.enabled()) {
    steps.then("tls", [&] { return natsOptions_SetSecure(o, true); });
    if (!c.tls.ca_file.empty()) {
      steps.then("tls.ca_file",
                 [&] { return natsOptions_LoadCATrustedCertificates(o, c.tls.ca_file.c_str()); });
    }
    if (!c.tls.cert_file.empty()) {
      steps.then("tls.cert_file", [&] {
        return natsOptions_LoadCertificatesChain(o, c.tls.cert_file.c_str(),
                                                 c.tls.key_file.c_str());
      });
    }
    if (!c.tls.verify) {
      steps.then("tls.verify", [&] { return natsOptions_SkipServerVerification(o, true); });
    }
  }
  if (!steps.error().empty()) return fail("nats: " + steps.error());
  return opts;
}

}  // namespace psycho::nats
