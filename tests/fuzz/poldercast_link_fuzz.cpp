// libFuzzer target for what an unauthenticated peer can send an overlay link: handshake
// messages 1 (to a responder) and 2 (to an initiator), the identity payload, and sealed
// frames on a link that finished its handshake. None may crash, and none may finish a
// handshake: the input knows no secret and no key.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/poldercast/link_security.hpp"
#include "adapters/poldercast/node_key.hpp"

namespace {

using namespace psycho::poldercast;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "poldercast_link_fuzz: %s\n", what);
  std::abort();
}

AdmissionPolicy with_secret() {
  AdmissionPolicy p;
  noise::Key32 psk{};
  psk.fill(7);
  p.secrets.emplace_back(1, psk);
  return p;
}

struct Fixture {
  std::shared_ptr<LinkSecurity> plain =
      std::make_shared<LinkSecurity>(NodeKey::generate(), AdmissionPolicy{{}, {}, true});
  std::shared_ptr<LinkSecurity> secret =
      std::make_shared<LinkSecurity>(NodeKey::generate(), with_secret());
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string reply;

  Identity identity;
  if (decode_identity(input, identity)) {
    check(encode_identity(identity) == input, "an identity re-encodes differently");
  }

  // Message 1 to responders with and without a secret; then the same input as message 3.
  for (const auto& security : {f.plain, f.secret}) {
    auto responder = security->start(false);
    const Refusal r = responder->on_message(input, reply);
    check(!responder->ready(), "message 1 finished a handshake");
    if (r == Refusal::none) {
      check(!reply.empty(), "an accepted message 1 got no answer");
      responder->on_message(input, reply);
      check(!responder->ready(), "a replayed message finished a handshake");
    }
  }

  // Message 2 to an initiator.
  for (const auto& security : {f.plain, f.secret}) {
    auto initiator = security->start(true);
    initiator->first_message();
    initiator->on_message(input, reply);
    check(!initiator->ready(), "a forged message 2 finished a handshake");
  }

  // A sealed frame on a finished link.
  auto initiator = f.plain->start(true);
  auto responder = f.plain->start(false);
  std::string m2, m3;
  check(responder->on_message(initiator->first_message(), m2) == Refusal::none, "message 1");
  check(initiator->on_message(m2, m3) == Refusal::none, "message 2");
  check(responder->on_message(m3, reply) == Refusal::none && responder->ready(), "message 3");
  std::string opened;
  check(!responder->open(input, opened), "a forged frame opened");
  return 0;
}
