// Configuration reloads: on SIGHUP and when the watched file changes, on the control thread.
#include <sys/stat.h>

#include <algorithm>

#include "config/reload.hpp"
#include "core/log.hpp"
#include "net/client_session.hpp"
#include "net/server_impl.hpp"

namespace psycho::net {

void Server::Impl::wait_for_hangup() {
  hangup.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::info("signal received", {{"signal", SIGHUP}});
    reload();
    wait_for_hangup();
  });
}

std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

void Server::Impl::watch_config_file() {
  if (watch_stamp.empty()) watch_stamp = file_stamp(watch_path);
  watch_timer.expires_after(std::chrono::seconds(2));
  watch_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const std::string now = file_stamp(watch_path);
    if (!now.empty() && now != watch_stamp) {
      watch_stamp = now;
      log::info("configuration file changed", {{"file", watch_path}});
      reload();
    }
    watch_config_file();
  });
}

void Server::Impl::reload() {
  if (!reload_source) {
    log::warn("configuration not reloaded: the gateway was started without a file", {});
    return;
  }
  auto next = reload_source();
  if (!next) {
    log::warn("configuration not reloaded: it has errors; the running one stays",
              {{"error", next.error()}});
    return;
  }
  const config::ReloadPlan plan = config::plan_reload(applied, *next);
  auto join = [](const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
    return out;
  };
  if (!plan.needs_restart.empty()) {
    log::warn("configuration not reloaded: these changes need a restart; the running one stays",
              {{"keys", join(plan.needs_restart)}});
    return;
  }
  // Changed adapter sections: every adapter must accept its change before anything is
  // applied, so that a refused reload leaves everything as it was.
  // Adapters that read files named in their section are asked even when the text did not
  // change: what the files hold may have.
  std::vector<std::pair<Adapter*, const config::AdapterSection*>> changed_adapters;
  for (auto& a : adapters) {
    const bool changed = std::find(plan.changed_adapters.begin(), plan.changed_adapters.end(),
                                   a->name()) != plan.changed_adapters.end();
    if (!changed && !a->rereads_files_on_reload()) continue;
    for (const auto& s : next->adapters) {
      if (s.name == a->name()) changed_adapters.emplace_back(a.get(), &s);
    }
  }
  for (const auto& [adapter, section] : changed_adapters) {
    if (auto st = adapter->reconfigure(*section, false); !st) {
      log::warn("configuration not reloaded: this change needs a restart; the running one stays",
                {{"error", st.error()}});
      return;
    }
  }
  const auto apply_adapters = [&] {
    for (const auto& [adapter, section] : changed_adapters) {
      if (auto st = adapter->reconfigure(*section, true); !st) {
        log::warn("adapter not reconfigured",
                  {{"adapter", adapter->name()}, {"error", st.error()}});
      }
    }
  };
  if (plan.live.empty()) {
    apply_adapters();  // only what their files hold may have changed; they log it
    log::info("configuration reloaded: nothing changed", {});
    return;
  }
  std::shared_ptr<auth::Authenticator> authenticator;
  if (sessions.auth_required) {
    auto made = auth::Authenticator::create(next->gateway.auth);
    if (!made) {
      log::warn("configuration not reloaded; the running one stays", {{"error", made.error()}});
      return;
    }
    authenticator = std::move(made.value());
    sessions.set_authenticator(authenticator);
  }
  apply_adapters();
  log::configure(next->log);
  const LiveLimits limits(next->gateway);
  router.follow_max_pending(next->gateway.max_pending);
  for (int w = 0; w < workers.size(); ++w) {
    workers.post(w, [this, w, limits, authenticator] {
      sessions.live[w] = limits;
      if (!authenticator) return;
      auto live = sessions.sessions[w];  // on_reload may close some
      for (ClientSession* s : live) s->on_reload(*authenticator);
      router.invalidate_routes();  // queue-group picks depend on the members' permissions
    });
  }
  applied = std::move(next.value());
  log::info("configuration reloaded", {{"changed", join(plan.live)}});
}

}  // namespace psycho::net
