#include "adapters/poldercast/wire.hpp"

namespace psycho::poldercast {

namespace {

constexpr char kMagic[2] = {'P', 'C'};
constexpr std::uint8_t kPartialFlag = 0x01;  // profile flags: the topic list is not all
constexpr std::uint8_t kDirectFlag = 0x01;   // publication flags: a reply sent straight back

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { be(v, 2); }
  void u32(std::uint32_t v) { be(v, 4); }
  void u64(std::uint64_t v) { be(v, 8); }
  void bytes(std::string_view b) { out_.append(b); }
  // A string with a length prefix of `width` bytes.
  void str(std::string_view s, int width) {
    be(s.size(), width);
    out_.append(s);
  }

 private:
  void be(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool u8(std::uint8_t& v) { return be(v, 1); }
  bool u16(std::uint16_t& v) { return be(v, 2); }
  bool u32(std::uint32_t& v) { return be(v, 4); }
  bool u64(std::uint64_t& v) { return be(v, 8); }
  bool bytes(std::size_t n, std::string_view& out) {
    if (data_.size() - pos_ < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A length-prefixed string of at most `max` bytes; `error` says which check failed.
  bool str(int width, std::size_t max, std::string& out, DecodeError& error) {
    std::uint64_t n = 0;
    if (!be(n, width)) return fail(error, DecodeError::truncated);
    if (n > max) return fail(error, DecodeError::too_large);
    std::string_view b;
    if (!bytes(static_cast<std::size_t>(n), b)) return fail(error, DecodeError::truncated);
    out.assign(b);
    return true;
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  static bool fail(DecodeError& error, DecodeError e) {
    error = e;
    return false;
  }
  template <class T>
  bool be(T& v, int width) {
    if (data_.size() - pos_ < static_cast<std::size_t>(width)) return false;
    std::uint64_t x = 0;
    for (int i = 0; i < width; ++i) x = (x << 8) | static_cast<unsigned char>(data_[pos_++]);
    v = static_cast<T>(x);
    return true;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

void write_profile(Writer& w, const Profile& p) {
  w.u64(p.node_id);
  w.str(p.address, 1);
  w.u8(p.partial ? kPartialFlag : 0);
  w.u16(static_cast<std::uint16_t>(p.topics.size()));
  for (const auto& t : p.topics) {
    w.u64(t.topic);
    w.u8(t.priority);
  }
}

void write_entries(Writer& w, const std::vector<Descriptor>& entries) {
  w.u8(static_cast<std::uint8_t>(entries.size()));
  for (const auto& d : entries) {
    write_profile(w, d.profile);
    w.u16(d.age);
  }
}

DecodeError read_profile(Reader& r, const Limits& limits, Profile& p) {
  DecodeError error = DecodeError::none;
  if (!r.u64(p.node_id)) return DecodeError::truncated;
  if (!r.str(1, limits.max_address, p.address, error)) return error;
  std::uint8_t flags = 0;
  if (!r.u8(flags)) return DecodeError::truncated;
  if ((flags & ~kPartialFlag) != 0) return DecodeError::bad_value;
  p.partial = (flags & kPartialFlag) != 0;
  std::uint16_t n = 0;
  if (!r.u16(n)) return DecodeError::truncated;
  if (n > limits.max_topics) return DecodeError::too_large;
  p.topics.resize(n);
  for (auto& t : p.topics) {
    if (!r.u64(t.topic) || !r.u8(t.priority)) return DecodeError::truncated;
    if (t.priority > 2) return DecodeError::bad_value;
  }
  return DecodeError::none;
}

DecodeError read_entries(Reader& r, const Limits& limits, std::vector<Descriptor>& entries) {
  std::uint8_t n = 0;
  if (!r.u8(n)) return DecodeError::truncated;
  if (n > limits.max_entries) return DecodeError::too_large;
  entries.resize(n);
  for (auto& d : entries) {
    if (auto e = read_profile(r, limits, d.profile); e != DecodeError::none) return e;
    if (!r.u16(d.age)) return DecodeError::truncated;
  }
  return DecodeError::none;
}

DecodeError read_publication(Reader& r, const Limits& limits, Publication& p) {
  std::string_view id;
  if (!r.bytes(p.msg_id.size(), id)) return DecodeError::truncated;
  for (std::size_t i = 0; i < id.size(); ++i) p.msg_id[i] = static_cast<std::uint8_t>(id[i]);
  if (!r.u64(p.topic) || !r.u64(p.origin) || !r.u64(p.seq) || !r.u32(p.bus) || !r.u8(p.hops) ||
      !r.u16(p.overlay_hops)) {
    return DecodeError::truncated;
  }
  std::uint8_t flags = 0;
  if (!r.u8(flags)) return DecodeError::truncated;
  if ((flags & ~kDirectFlag) != 0) return DecodeError::bad_value;
  p.direct = (flags & kDirectFlag) != 0;
  DecodeError error = DecodeError::none;
  if (!r.str(1, limits.max_address, p.reply_address, error) ||
      !r.str(2, limits.max_subject, p.subject, error) ||
      !r.str(2, limits.max_subject, p.reply, error) ||
      !r.str(4, limits.max_publication, p.headers, error) ||
      !r.str(4, limits.max_publication, p.payload, error)) {
    return error;
  }
  return DecodeError::none;
}

bool is_gossip(Type t) {
  return t == Type::cyclon_request || t == Type::cyclon_response || t == Type::vicinity_request ||
         t == Type::vicinity_response || t == Type::rings_request || t == Type::rings_response;
}

}  // namespace

std::string_view error_name(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::none:
      return "none";
    case DecodeError::truncated:
      return "truncated";
    case DecodeError::bad_magic:
      return "bad_magic";
    case DecodeError::bad_version:
      return "bad_version";
    case DecodeError::bad_type:
      return "bad_type";
    case DecodeError::too_large:
      return "too_large";
    case DecodeError::bad_value:
      return "bad_value";
    case DecodeError::trailing_bytes:
      return "trailing_bytes";
  }
  return "unknown";
}

void encode(const Message& m, std::string& out) {
  Writer w(out);
  w.bytes(std::string_view(kMagic, 2));
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(m.type));
  write_profile(w, m.sender);
  if (is_gossip(m.type)) {
    write_entries(w, m.entries);
  } else if (m.type == Type::publish) {
    const auto& p = m.publication;
    w.bytes(std::string_view(reinterpret_cast<const char*>(p.msg_id.data()), p.msg_id.size()));
    w.u64(p.topic);
    w.u64(p.origin);
    w.u64(p.seq);
    w.u32(p.bus);
    w.u8(p.hops);
    w.u16(p.overlay_hops);
    w.u8(p.direct ? kDirectFlag : 0);
    w.str(p.reply_address, 1);
    w.str(p.subject, 2);
    w.str(p.reply, 2);
    w.str(p.headers, 4);
    w.str(p.payload, 4);
  } else if (m.type == Type::find_subscriber) {
    w.u64(m.topic);
    w.u8(m.ttl);
    write_entries(w, m.entries);
  } else if (m.type == Type::find_subscriber_response) {
    w.u64(m.topic);
    write_entries(w, m.entries);
  }
}

DecodeError decode(std::string_view data, const Limits& limits, Message& out) {
  Reader r(data);
  std::string_view magic;
  if (!r.bytes(2, magic)) return DecodeError::truncated;
  if (magic != std::string_view(kMagic, 2)) return DecodeError::bad_magic;
  std::uint8_t version = 0, type = 0;
  if (!r.u8(version) || !r.u8(type)) return DecodeError::truncated;
  if (version != kVersion) return DecodeError::bad_version;
  if (type < static_cast<std::uint8_t>(Type::cyclon_request) ||
      type > static_cast<std::uint8_t>(Type::pong)) {
    return DecodeError::bad_type;
  }
  out.type = static_cast<Type>(type);
  const std::size_t max =
      out.type == Type::publish ? limits.max_publication : limits.max_gossip_message;
  if (data.size() > max) return DecodeError::too_large;
  if (auto e = read_profile(r, limits, out.sender); e != DecodeError::none) return e;
  DecodeError e = DecodeError::none;
  if (is_gossip(out.type)) {
    e = read_entries(r, limits, out.entries);
  } else if (out.type == Type::publish) {
    e = read_publication(r, limits, out.publication);
  } else if (out.type == Type::find_subscriber) {
    e = r.u64(out.topic) && r.u8(out.ttl) ? read_entries(r, limits, out.entries)
                                          : DecodeError::truncated;
    if (e == DecodeError::none && out.entries.size() != 1) e = DecodeError::bad_value;
  } else if (out.type == Type::find_subscriber_response) {
    e = r.u64(out.topic) ? read_entries(r, limits, out.entries) : DecodeError::truncated;
  }
  if (e != DecodeError::none) return e;
  return r.at_end() ? DecodeError::none : DecodeError::trailing_bytes;
}

}  // namespace psycho::poldercast
