// A throw-away self-signed certificate for 127.0.0.1 (made with openssl), for TLS tests.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace psycho::testing {

struct TlsFiles {
  std::string dir, cert, key;
  TlsFiles() {
    char tmpl[] = "/tmp/psycho-tls-XXXXXX";
    dir = mkdtemp(tmpl);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " +
                            cert +
                            " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
                            " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed");
  }
  ~TlsFiles() { std::system(("rm -rf " + dir).c_str()); }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;
};

}  // namespace psycho::testing
