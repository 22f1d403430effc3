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

  // Applies one setting; the first failure is kept and later steps are skipped.
  std::string error;
  const auto step = [&](std::string_view what, auto&& apply) {
    if (error.empty()) {
      if (const natsStatus s = apply(); s != NATS_OK) error = describe(what, s);
    }
  };
  step("servers",
       [&] { return natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size())); });
  step("name", [&] { return natsOptions_SetName(o, c.name.c_str()); });
  // What this gateway publishes must not come back to it (the loop rules in docs/architecture.md).
  step("no echo", [&] { return natsOptions_SetNoEcho(o, true); });
  step("connect timeout", [&] { return natsOptions_SetTimeout(o, ms(c.connect_timeout)); });
  step("reconnect", [&] { return natsOptions_SetAllowReconnect(o, true); });
  step("reconnect attempts",
       [&] { return natsOptions_SetMaxReconnect(o, c.reconnect.max_attempts); });
  step("reconnect wait", [&] { return natsOptions_SetReconnectWait(o, ms(c.reconnect.wait)); });
  step("reconnect jitter", [&] {
    return natsOptions_SetReconnectJitter(o, ms(c.reconnect.jitter), ms(c.reconnect.jitter));
  });
  step("reconnect buffer", [&] {
    return natsOptions_SetReconnectBufSize(o, static_cast<int>(c.reconnect.buffer_size));
  });
  // Subscriptions share the library's delivery pool: thousands of subjects must not mean
  // thousands of threads.
  step("delivery pool", [&] { return natsOptions_UseGlobalMessageDelivery(o, true); });
  // Start even when NATS is down; /readyz reports it until the first connect.
  step("retry on failed connect",
       [&] { return natsOptions_SetRetryOnFailedConnect(o, true, cb.connected, cb.closure); });
  step("disconnected callback",
       [&] { return natsOptions_SetDisconnectedCB(o, cb.disconnected, cb.closure); });
  step("reconnected callback",
       [&] { return natsOptions_SetReconnectedCB(o, cb.reconnected, cb.closure); });
  step("closed callback", [&] { return natsOptions_SetClosedCB(o, cb.closed, cb.closure); });
  step("error handler", [&] { return natsOptions_SetErrorHandler(o, cb.error, cb.closure); });

  if (!c.user.empty()) {
    step("user", [&] { return natsOptions_SetUserInfo(o, c.user.c_str(), c.password.c_str()); });
  }
  if (!c.token.empty()) step("token", [&] { return natsOptions_SetToken(o, c.token.c_str()); });
  if (!c.creds_file.empty()) {
    step("creds_file",
         [&] { return natsOptions_SetUserCredentialsFromFiles(o, c.creds_file.c_str(), nullptr); });
  }
  if (!c.nkey_seed_file.empty()) {
    step("nkey_seed_file",
         [&] { return natsOptions_SetNKeyFromSeed(o, c.nkey.c_str(), c.nkey_seed_file.c_str()); });
  }
  if (c.tls.enabled()) {
    step("tls", [&] { return natsOptions_SetSecure(o, true); });
    if (!c.tls.ca_file.empty()) {
      step("tls.ca_file",
           [&] { return natsOptions_LoadCATrustedCertificates(o, c.tls.ca_file.c_str()); });
    }
    if (!c.tls.cert_file.empty()) {
      step("tls.cert_file", [&] {
        return natsOptions_LoadCertificatesChain(o, c.tls.cert_file.c_str(),
                                                 c.tls.key_file.c_str());
      });
    }
    if (!c.tls.verify) {
      step("tls.verify", [&] { return natsOptions_SkipServerVerification(o, true); });
    }
  }
  if (!error.empty()) return fail("nats: " + error);
  return opts;
}

}  // namespace psycho::nats
