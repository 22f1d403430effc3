#include "adapters/poldercast/node_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace psycho::poldercast {

struct NodeKey::Pkey {
  EVP_PKEY* key = nullptr;
  ~Pkey() { EVP_PKEY_free(key); }
};

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// SHA-256 with the algorithm fetched once and a context per thread: EVP_Digest(...,
// EVP_sha256()) looks the algorithm up by name and makes a context on every call, which cost
// more than hashing a small publication (every publication is hashed on both sides).
void sha256(const void* data, std::size_t size, unsigned char* out) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local const Context context;
  unsigned int written = 0;
  if (md != nullptr && context.ctx != nullptr &&
      EVP_DigestInit_ex2(context.ctx, md, nullptr) == 1 &&
      EVP_DigestUpdate(context.ctx, data, size) == 1 &&
      EVP_DigestFinal_ex(context.ctx, out, &written) == 1) {
    return;
  }
  // Without a fetched algorithm or a context: the slow way, which always works.
  EVP_Digest(data, size, out, &written, EVP_sha256(), nullptr);
}

// Refuses a key file that anyone but its owner may read or write: a mounted Kubernetes
// Secret needs defaultMode 0400 (or 0600).
Status check_private(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail("poldercast: cannot read the node key file '" + path + "'");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return fail("poldercast: the node key file '" + path +
                "' may be read or written by others: make it 0600 (a Kubernetes Secret "
                "volume: defaultMode 0400)");
  }
  return Ok{};
}

// Writes `text` to `path` with mode 0600 from the start (never briefly readable by others),
// through a temporary file renamed into place, so a crash never leaves half a key.
Status write_private(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("poldercast: cannot create " + temp);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || std::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return fail("poldercast: cannot write the node key file " + path);
  }
  return Ok{};
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

bool from_hex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.assign(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return true;
}

NodeKey::NodeKey(std::unique_ptr<Pkey> key) : key_(std::move(key)) {
  std::size_t size = public_.size();
  EVP_PKEY_get_raw_public_key(key_->key, public_.data(), &size);
  id_ = id_of(public_);
}

NodeKey::~NodeKey() = default;

std::shared_ptr<NodeKey> NodeKey::generate() {
  auto pkey = std::make_unique<Pkey>();
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey->key) <= 0) {
    EVP_PKEY_CTX_free(ctx);
    return nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  return std::shared_ptr<NodeKey>(new NodeKey(std::move(pkey)));
}

Result<std::shared_ptr<NodeKey>> NodeKey::load(const std::string& path, bool create) {
  std::error_code ec;
  if (create && !std::filesystem::exists(path, ec)) {
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return fail("poldercast: cannot create " + dir.string() + ": " + ec.message());
    auto key = generate();
    if (!key) return fail("poldercast: cannot generate an Ed25519 key");
    if (auto st = write_private(path, key->private_pem()); !st) return fail(st.error());
    return key;
  }
  if (auto st = check_private(path); !st) return fail(st.error());
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  auto pkey = std::make_unique<Pkey>();
  pkey->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey->key == nullptr || EVP_PKEY_get_id(pkey->key) != EVP_PKEY_ED25519) {
    return fail("poldercast: '" + path + "' does not hold an Ed25519 private key (PEM)");
  }
  return std::shared_ptr<NodeKey>(new NodeKey(std::move(pkey)));
}

std::string NodeKey::private_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_->key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

Signature NodeKey::sign(std::string_view message) const {
  // A context per thread, set up for the last key it signed with: setting one up (finding
  // the algorithm in the provider) cost a fifth of a signature. Should reusing it ever
  // fail, it is set up again.
  struct Signer {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_PKEY* key = nullptr;
    ~Signer() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Signer signer;
  Signature sig{};
  const auto sign_with = [&](bool reuse) {
    if (signer.ctx == nullptr) return false;
    if (!reuse) {
      signer.key = nullptr;
      EVP_MD_CTX_reset(signer.ctx);
      if (EVP_DigestSignInit(signer.ctx, nullptr, nullptr, nullptr, key_->key) <= 0) return false;
      signer.key = key_->key;
    }
    std::size_t size = sig.size();
    return EVP_DigestSign(signer.ctx, sig.data(), &size, bytes_of(message), message.size()) > 0;
  };
  // Ed25519 cannot fail to sign with a valid key; a failure leaves a zero signature, which
  // every verifier refuses.
  if (!(signer.key == key_->key && sign_with(true)) && !sign_with(false)) sig.fill(0);
  return sig;
}

bool NodeKey::check(const PublicKey& key, std::string_view message, const Signature& signature) {
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size());
  if (pkey == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) > 0 &&
                  EVP_DigestVerify(ctx, signature.data(), signature.size(), bytes_of(message),
                                   message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

bool NodeKey::verify(const PublicKey& key, std::string_view message,
                     const Signature& signature) const {
  return check(key, message, signature);
}

Digest NodeKey::hash(std::string_view data) const {
  Digest digest{};
  sha256(data.data(), data.size(), digest.data());
  return digest;
}

std::uint64_t NodeKey::id_of(const PublicKey& key) {
  // Asked for every publication that arrives, whose signer is most often the last one's
  // (a batch has one signer).
  thread_local PublicKey last_key{};
  thread_local std::uint64_t last_id = 0;
  if (last_id != 0 && key == last_key) return last_id;
  unsigned char digest[32];
  sha256(key.data(), key.size(), digest);
  std::uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | digest[i];
  // 0 means "unknown" on the overlay; a key that hashes to it (a 2^-64 chance) gets 1.
  last_key = key;
  last_id = id == 0 ? 1 : id;
  return last_id;
}

}  // namespace psycho::poldercast
