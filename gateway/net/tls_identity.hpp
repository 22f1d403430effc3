// The identity a TLS peer proved: the common name of its verified certificate.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace psycho::net {

// "" when the peer sent no certificate or it did not verify.
std::string verified_peer_common_name(SSL* ssl);

}  // namespace psycho::net
