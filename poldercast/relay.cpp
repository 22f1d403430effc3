#include "poldercast/relay.hpp"

#include "adapters/wire_bytes.hpp"

namespace psycho::poldercast {

namespace {

constexpr std::string_view kMagic = "PC";
constexpr auto kRelayType = static_cast<std::uint8_t>(Type::relay);

}  // namespace

bool undialable(std::string_view address) noexcept { return !relay_of(address).empty(); }

std::string_view relay_of(std::string_view address) noexcept {
  if (!address.starts_with(kUndialablePrefix)) return {};
  const auto at = address.find('@', kUndialablePrefix.size());
  if (at == std::string_view::npos || at == kUndialablePrefix.size()) return {};
  return address.substr(at + 1);
}

bool is_relay(std::string_view data) noexcept {
  return data.size() >= 4 && data.substr(0, 2) == kMagic &&
         static_cast<std::uint8_t>(data[2]) == kVersion &&
         static_cast<std::uint8_t>(data[3]) == kRelayType;
}

void encode_relay(std::string_view destination, std::string_view message, std::string& out) {
  ByteWriter w(out);
  w.bytes(kMagic);
  w.u8(kVersion);
  w.u8(kRelayType);
  w.uint(destination.size(), 1);
  w.bytes(destination);
  w.u32(static_cast<std::uint32_t>(message.size()));
  w.bytes(message);
}

DecodeError decode_relay(std::string_view data, const Limits& limits, std::string_view& destination,
                         std::string_view& message) {
  ByteReader r(data);
  std::string_view magic;
  std::uint8_t version = 0, type = 0, destination_size = 0;
  std::uint32_t message_size = 0;
  if (!r.bytes(2, magic)) return DecodeError::truncated;
  if (magic != kMagic) return DecodeError::bad_magic;
  if (!r.u8(version) || !r.u8(type)) return DecodeError::truncated;
  if (version != kVersion) return DecodeError::bad_version;
  if (type != kRelayType) return DecodeError::bad_type;
  if (data.size() > limits.max_publication + kRelayOverhead) return DecodeError::too_large;
  if (!r.u8(destination_size)) return DecodeError::truncated;
  if (destination_size > limits.max_address) return DecodeError::too_large;
  if (!r.bytes(destination_size, destination) || !r.u32(message_size)) {
    return DecodeError::truncated;
  }
  if (message_size > limits.max_publication) return DecodeError::too_large;
  if (!r.bytes(message_size, message)) return DecodeError::truncated;
  if (destination.empty() || message.empty()) return DecodeError::bad_value;
  return r.at_end() ? DecodeError::none : DecodeError::trailing_bytes;
}

}  // namespace psycho::poldercast
