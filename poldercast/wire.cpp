#include "poldercast/wire.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "adapters/wire_bytes.hpp"

namespace psycho::poldercast {

namespace {

constexpr char kMagic[2] = {'P', 'C'};
constexpr std::uint8_t kPartialFlag = 0x01;  // profile flags: the topic list is not all
constexpr std::uint8_t kDirectFlag = 0x01;   // publication flags: a reply sent straight back

// The writers below serve both ByteWriter (gossip, whose size is found as it is written) and
// FixedWriter (publications, sized first: encode_publication).

// A length-prefixed string: the length in `width` bytes, then the bytes.
template <class Writer>
void write_str(Writer& w, std::string_view s, std::size_t width) {
  w.uint(s.size(), width);
  w.bytes(s);
}

// A length-prefixed string of at most `max` bytes, into `out`; on failure `error` says which
// check failed.
bool read_str(ByteReader& r, std::size_t width, std::size_t max, std::string& out,
              DecodeError& error) {
  std::uint64_t n = 0;
  std::string_view b;
  if (!r.uint(width, n)) {
    error = DecodeError::truncated;
  } else if (n > max) {
    error = DecodeError::too_large;
  } else if (!r.bytes(static_cast<std::size_t>(n), b)) {
    error = DecodeError::truncated;
  } else {
    out.assign(b);
    return true;
  }
  return false;
}

template <class Writer>
void write_head(Writer& w, Type type) {
  w.bytes(std::string_view(kMagic, 2));
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
}

template <class Writer>
void write_profile(Writer& w, const Profile& p) {
  w.u64(p.node_id);
  write_str(w, p.address, 1);
  w.u8(p.partial ? kPartialFlag : 0);
  w.u16(static_cast<std::uint16_t>(p.topics.size()));
  for (const auto& t : p.topics) {
    w.u64(t.topic);
    w.u8(t.priority);
  }
}

void write_entries(ByteWriter& w, const std::vector<Descriptor>& entries) {
  w.u8(static_cast<std::uint8_t>(entries.size()));
  for (const auto& d : entries) {
    write_profile(w, d.profile);
    w.u16(d.age);
  }
}

DecodeError read_profile(ByteReader& r, const Limits& limits, Profile& p) {
  DecodeError error = DecodeError::none;
  if (!r.u64(p.node_id)) return DecodeError::truncated;
  if (!read_str(r, 1, limits.max_address, p.address, error)) return error;
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

DecodeError read_entries(ByteReader& r, const Limits& limits, std::vector<Descriptor>& entries) {
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

// Wire order: what relays set (topic, overlay_hops), then the signed fields in the order
// write_signed_fields() writes them, then the signature and the publication's batch proof.
DecodeError read_publication(ByteReader& r, const Limits& limits, Publication& p) {
  std::string_view id;
  if (!r.u64(p.topic) || !r.u16(p.overlay_hops) || !r.bytes(p.msg_id.size(), id)) {
    return DecodeError::truncated;
  }
  for (std::size_t i = 0; i < id.size(); ++i) p.msg_id[i] = static_cast<std::uint8_t>(id[i]);
  if (!r.u64(p.origin) || !r.u64(p.seq) || !r.u32(p.bus) || !r.u8(p.hops)) {
    return DecodeError::truncated;
  }
  std::uint8_t flags = 0;
  if (!r.u8(flags)) return DecodeError::truncated;
  if ((flags & ~kDirectFlag) != 0) return DecodeError::bad_value;
  p.direct = (flags & kDirectFlag) != 0;
  DecodeError error = DecodeError::none;
  if (!read_str(r, 1, limits.max_address, p.reply_address, error) ||
      !read_str(r, 2, limits.max_subject, p.subject, error) ||
      !read_str(r, 2, limits.max_subject, p.reply, error) ||
      !read_str(r, 4, limits.max_publication, p.headers, error) ||
      !read_str(r, 4, limits.max_publication, p.payload, error)) {
    return error;
  }
  std::string_view key, signature;
  if (!r.bytes(p.signer.size(), key) || !r.bytes(p.signature.size(), signature)) {
    return DecodeError::truncated;
  }
  std::memcpy(p.signer.data(), key.data(), key.size());
  std::memcpy(p.signature.data(), signature.data(), signature.size());
  BatchProof& b = p.batch;
  if (!r.u8(b.depth) || !r.u16(b.index)) return DecodeError::truncated;
  if (b.depth > kMaxBatchDepth || (b.index >> b.depth) != 0) return DecodeError::bad_value;
  for (std::size_t level = 0; level < b.depth; ++level) {
    std::string_view sibling;
    if (!r.bytes(b.path[level].size(), sibling)) return DecodeError::truncated;
    std::memcpy(b.path[level].data(), sibling.data(), sibling.size());
  }
  // The levels a batch does not use are zero. One memset: GCC cleared them a level at a time
  // with `rep stos`, whose start-up made this loop half of decode()'s time.
  static_assert(sizeof(b.path) == kMaxBatchDepth * sizeof(Digest), "the levels are contiguous");
  std::memset(b.path.data() + b.depth, 0, (kMaxBatchDepth - b.depth) * sizeof(Digest));
  return DecodeError::none;
}

// The fields a publication's origin vouches for, in wire order.
template <class Writer>
void write_signed_fields(Writer& w, const Publication& p) {
  w.bytes(std::string_view(reinterpret_cast<const char*>(p.msg_id.data()), p.msg_id.size()));
  w.u64(p.origin);
  w.u64(p.seq);
  w.u32(p.bus);
  w.u8(p.hops);
  w.u8(p.direct ? kDirectFlag : 0);
  write_str(w, p.reply_address, 1);
  write_str(w, p.subject, 2);
  write_str(w, p.reply, 2);
  write_str(w, p.headers, 4);
  write_str(w, p.payload, 4);
  w.bytes(std::string_view(reinterpret_cast<const char*>(p.signer.data()), p.signer.size()));
}

bool is_gossip(Type t) {
  return t == Type::cyclon_request || t == Type::cyclon_response || t == Type::vicinity_request ||
         t == Type::vicinity_response || t == Type::rings_request || t == Type::rings_response;
}

}  // namespace

std::size_t publication_wire_size(const Profile& s, const Publication& p) {
  const std::size_t header = 2 + 1 + 1;  // magic, version, type
  const std::size_t profile = 8 + 1 + s.address.size() + 1 + 2 + s.topics.size() * (8 + 1);
  const std::size_t signed_fields =
      p.msg_id.size() + 8 + 8 + 4 + 1 + 1 + (1 + p.reply_address.size()) + (2 + p.subject.size()) +
      (2 + p.reply.size()) + (4 + p.headers.size()) + (4 + p.payload.size()) + p.signer.size();
  const std::size_t proof =
      p.signature.size() + 1 + 2 +
      std::min<std::size_t>(p.batch.depth, kMaxBatchDepth) * std::tuple_size_v<Digest>;
  return header + profile + 8 + 2 + signed_fields + proof;
}

void encode_publication(const Profile& sender, const Publication& p, std::string& out) {
  const std::size_t at = out.size(), size = publication_wire_size(sender, p);
  out.resize(at + size);
  FixedWriter w(out.data() + at, size);
  write_head(w, Type::publish);
  write_profile(w, sender);
  w.u64(p.topic);
  w.u16(p.overlay_hops);
  write_signed_fields(w, p);
  w.bytes(std::string_view(reinterpret_cast<const char*>(p.signature.data()), p.signature.size()));
  w.u8(p.batch.depth);
  w.u16(p.batch.index);
  const std::size_t depth = std::min<std::size_t>(p.batch.depth, kMaxBatchDepth);
  for (std::size_t level = 0; level < depth; ++level) {
    const Digest& sibling = p.batch.path[level];
    w.bytes(std::string_view(reinterpret_cast<const char*>(sibling.data()), sibling.size()));
  }
  // publication_wire_size() counts what is written here, field for field (the unit tests hold
  // both to the format's bytes). Should they ever disagree, stop rather than send bytes no
  // field wrote.
  if (!w.ok() || w.remaining() != 0) std::abort();
}

void encode(const WireMessage& m, std::string& out) {
  if (m.type == Type::publish) {
    encode_publication(m.sender, m.publication, out);
    return;
  }
  ByteWriter w(out);
  write_head(w, m.type);
  write_profile(w, m.sender);
  if (is_gossip(m.type)) {
    write_entries(w, m.entries);
  } else if (m.type == Type::find_subscriber) {
    w.u64(m.topic);
    w.u8(m.ttl);
    write_entries(w, m.entries);
  } else if (m.type == Type::find_subscriber_response) {
    w.u64(m.topic);
    write_entries(w, m.entries);
  } else if (m.type == Type::signal) {
    write_str(w, m.data, 2);
  }
}

DecodeError decode(std::string_view data, const Limits& limits, WireMessage& out) {
  ByteReader r(data);
  std::string_view magic;
  if (!r.bytes(2, magic)) return DecodeError::truncated;
  if (magic != std::string_view(kMagic, 2)) return DecodeError::bad_magic;
  std::uint8_t version = 0, type = 0;
  if (!r.u8(version) || !r.u8(type)) return DecodeError::truncated;
  if (version != kVersion) return DecodeError::bad_version;
  if (type < static_cast<std::uint8_t>(Type::cyclon_request) ||
      type > static_cast<std::uint8_t>(Type::signal) ||
      type == static_cast<std::uint8_t>(Type::relay)) {
    return DecodeError::bad_type;
  }
  out.type = static_cast<Type>(type);
  // `out` is a scratch message reused from frame to frame: nothing of the last one may stay
  // in a field this type does not carry (a publication after a gossip exchange kept its
  // entries, and on_message counted them as descriptors it ignored).
  out.entries.clear();
  out.topic = 0;
  out.ttl = 0;
  out.data.clear();
  if (out.type != Type::publish) out.publication = Publication{};
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
  } else if (out.type == Type::signal) {
    read_str(r, 2, limits.max_gossip_message, out.data, e);
  }
  if (e != DecodeError::none) return e;
  return r.at_end() ? DecodeError::none : DecodeError::trailing_bytes;
}

void reset_keeping_buffers(Publication& p, std::size_t max_kept) {
  Publication fresh;
  for (auto [kept, from] : {std::pair{&fresh.reply_address, &p.reply_address},
                            {&fresh.subject, &p.subject},
                            {&fresh.reply, &p.reply},
                            {&fresh.headers, &p.headers},
                            {&fresh.payload, &p.payload}}) {
    if (from->capacity() > max_kept) {
      // Freed here: moving a short string into it (below) would keep its buffer.
      std::string().swap(*from);
      continue;
    }
    kept->swap(*from);
    kept->clear();
  }
  p = std::move(fresh);
}

std::string signed_content(const Publication& p) {
  std::string out = "psycho-poldercast publication 1:";
  ByteWriter w(out);
  write_signed_fields(w, p);
  return out;
}

}  // namespace psycho::poldercast
