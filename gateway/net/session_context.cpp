#include "net/session_context.hpp"

namespace psycho::net {

SessionContext::SessionContext(Router& r, const config::GatewayConfig& c, int workers)
    : router(r),
      config(c),
      live(workers, [&c](int) { return LiveLimits(c); }),
      max_control_line(c.max_control_line),
      counters(workers),
      sessions(workers) {}

std::shared_ptr<const Greeting> SessionContext::greeting() const {
  MutexLock lock(greeting_mutex_);
  return greeting_;
}

void SessionContext::set_greeting(Greeting g) {
  auto next = std::make_shared<const Greeting>(std::move(g));
  MutexLock lock(greeting_mutex_);
  greeting_ = std::move(next);
}

std::shared_ptr<auth::Authenticator> SessionContext::authenticator() const {
  MutexLock lock(authenticator_mutex_);
  return authenticator_;
}

void SessionContext::set_authenticator(std::shared_ptr<auth::Authenticator> a) {
  MutexLock lock(authenticator_mutex_);
  authenticator_ = std::move(a);
}

bool SessionContext::add_user_connection(const auth::User& user) {
  MutexLock lock(user_connections_mutex);
  std::size_t& n = user_connections[user.name];
  if (user.max_connections != 0 && n >= user.max_connections) return false;
  ++n;
  return true;
}

void SessionContext::remove_user_connection(const auth::User& user) {
  MutexLock lock(user_connections_mutex);
  auto it = user_connections.find(user.name);
  if (it != user_connections.end() && --it->second == 0) user_connections.erase(it);
}

}  // namespace psycho::net
