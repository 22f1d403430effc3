#include "adapters/multicast/socket.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "adapters/multicast/codec.hpp"
#include "core/host_port.hpp"

namespace psycho::multicast {

namespace {

Failure sys_fail(const std::string& what) {
  return fail("multicast: " + what + ": " + std::strerror(errno));
}

// The interface index of `name_or_address` (0: let the kernel choose).
Result<unsigned> interface_index(const std::string& name_or_address) {
  if (name_or_address.empty()) return 0u;
  if (const unsigned index = if_nametoindex(name_or_address.c_str()); index != 0) return index;
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = inet_pton(AF_INET, name_or_address.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, name_or_address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) {
    return fail("multicast: no interface named '" + name_or_address + "'");
  }
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return sys_fail("getifaddrs");
  unsigned index = 0;
  for (ifaddrs* i = list; i != nullptr && index == 0; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (is_v4 && i->ifa_addr->sa_family == AF_INET) {
      sockaddr_in a{};
      std::memcpy(&a, i->ifa_addr, sizeof a);
      if (a.sin_addr.s_addr == v4.s_addr) index = if_nametoindex(i->ifa_name);
    } else if (is_v6 && i->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 a{};
      std::memcpy(&a, i->ifa_addr, sizeof a);
      if (std::memcmp(&a.sin6_addr, &v6, sizeof v6) == 0) index = if_nametoindex(i->ifa_name);
    }
  }
  freeifaddrs(list);
  if (index == 0) return fail("multicast: no interface has the address '" + name_or_address + "'");
  return index;
}

template <class T>
bool set(int fd, int level, int option, const T& value) {
  return setsockopt(fd, level, option, &value, sizeof value) == 0;
}

// Buffers above the system's maximum need CAP_NET_ADMIN (the *FORCE options); without it
// the plain option gives what the system allows.
void set_buffer(int fd, int force_option, int option, std::size_t bytes) {
  const int value = static_cast<int>(bytes);
  if (!set(fd, SOL_SOCKET, force_option, value)) set(fd, SOL_SOCKET, option, value);
}

Status join_v4(int fd, const MulticastConfig& c, unsigned index, sockaddr_storage& group,
               socklen_t& size) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(c.port);
  inet_pton(AF_INET, c.group.c_str(), &addr.sin_addr);
  // Bound to the group address, the socket receives only this group's datagrams.
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return sys_fail("bind " + c.group + ":" + std::to_string(c.port));
  }
  ip_mreqn mreq{};
  mreq.imr_multiaddr = addr.sin_addr;
  mreq.imr_ifindex = static_cast<int>(index);
  if (!set(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)) return sys_fail("join " + c.group);
  ip_mreqn out{};
  out.imr_ifindex = static_cast<int>(index);
  if (index != 0 && !set(fd, IPPROTO_IP, IP_MULTICAST_IF, out)) {
    return sys_fail("IP_MULTICAST_IF");
  }
  const unsigned char ttl = static_cast<unsigned char>(c.ttl);
  const unsigned char loop = c.loopback ? 1 : 0;
  if (!set(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl) ||
      !set(fd, IPPROTO_IP, IP_MULTICAST_LOOP, loop)) {
    return sys_fail("IP_MULTICAST_TTL/LOOP");
  }
  std::memcpy(&group, &addr, sizeof addr);
  size = sizeof addr;
  return Ok{};
}

Status join_v6(int fd, const MulticastConfig& c, unsigned index, sockaddr_storage& group,
               socklen_t& size) {
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(c.port);
  inet_pton(AF_INET6, c.group.c_str(), &addr.sin6_addr);
  addr.sin6_scope_id = index;  // link-local groups (ff02::) need it
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return sys_fail("bind [" + c.group + "]:" + std::to_string(c.port));
  }
  ipv6_mreq mreq{};
  mreq.ipv6mr_multiaddr = addr.sin6_addr;
  mreq.ipv6mr_interface = index;
  if (!set(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq)) return sys_fail("join " + c.group);
  if (index != 0 && !set(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, index)) {
    return sys_fail("IPV6_MULTICAST_IF");
  }
  const int hops = c.ttl;
  const unsigned loop = c.loopback ? 1 : 0;
  if (!set(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops) ||
      !set(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop)) {
    return sys_fail("IPV6_MULTICAST_HOPS/LOOP");
  }
  std::memcpy(&group, &addr, sizeof addr);
  size = sizeof addr;
  return Ok{};
}

}  // namespace

Result<Socket> Socket::open(const MulticastConfig& config) {
  auto index = interface_index(config.interface);
  if (!index) return fail(index.error());
  Socket s;
  s.fd_ = ::socket(config.ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s.fd_ < 0) return sys_fail("socket");
  if (!set(s.fd_, SOL_SOCKET, SO_REUSEADDR, 1)) return sys_fail("SO_REUSEADDR");
  set_buffer(s.fd_, SO_RCVBUFFORCE, SO_RCVBUF, config.receive_buffer);
  set_buffer(s.fd_, SO_SNDBUFFORCE, SO_SNDBUF, config.send_buffer);
  // Runs of datagrams may arrive coalesced (see socket.hpp); a kernel without it sends them
  // one by one, which receive() takes as well.
  set(s.fd_, IPPROTO_UDP, UDP_GRO, 1);
  // Each datagram then carries the count of those the kernel dropped for a full buffer, so
  // the gateway knows (and shows) what it lost before it could see it.
  set(s.fd_, SOL_SOCKET, SO_RXQ_OVFL, 1);
  auto st = config.ipv6 ? join_v6(s.fd_, config, *index, s.group_, s.group_size_)
                        : join_v4(s.fd_, config, *index, s.group_, s.group_size_);
  if (!st) return fail(st.error());
  s.max_datagram_ = config.max_datagram;
  return s;
}

// A classic BPF program, run by the kernel on each datagram before it is queued to the socket,
// sees the UDP header first (8 bytes), then the datagram: the magic at 0, the sender at
// kSenderOffset (codec.hpp). Loads are big-endian, as the header is. A datagram too short to hold a
// common header is let through for decode() to count as malformed.
bool Socket::ignore_sender(std::uint64_t sender) {
  constexpr std::uint32_t kUdpHeader = 8;
  const std::uint32_t magic = load_be(kMagic.data(), kMagic.size());
  constexpr std::uint32_t kKeep = 0xFFFFFFFF, kDrop = 0;
  const auto high = static_cast<std::uint32_t>(sender >> 32);
  const auto low = static_cast<std::uint32_t>(sender);
  // Jump offsets count instructions after the jump: to "keep" (the last) or "drop".
  std::array<sock_filter, 10> program = {{
      BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kUdpHeader + kCommonHeaderSize, 0, 7),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kUdpHeader),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, magic, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kUdpHeader + kSenderOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, high, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kUdpHeader + kSenderOffset + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, low, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kDrop),
      BPF_STMT(BPF_RET | BPF_K, kKeep),
  }};
  const sock_fprog filter{static_cast<unsigned short>(program.size()), program.data()};
  filters_own_ = set(fd_, SOL_SOCKET, SO_ATTACH_FILTER, filter);
  return filters_own_;
}

std::optional<Socket::Queue> Socket::receive_queue() const noexcept {
  std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t size = sizeof info;
  if (getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info.data(), &size) != 0 ||
      size < (SK_MEMINFO_RCVBUF + 1) * sizeof(std::uint32_t) || info[SK_MEMINFO_RCVBUF] == 0) {
    return std::nullopt;
  }
  return Queue{info[SK_MEMINFO_RMEM_ALLOC], info[SK_MEMINFO_RCVBUF]};
}

Socket::Socket(Socket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      segmentation_(o.segmentation_.load()),
      runs_sent_(o.runs_sent_.load()),
      filters_own_(o.filters_own_),
      group_(o.group_),
      group_size_(o.group_size_),
      max_datagram_(o.max_datagram_) {}

Socket& Socket::operator=(Socket&& o) noexcept {
  std::swap(fd_, o.fd_);
  segmentation_.store(o.segmentation_.load());
  runs_sent_.store(o.runs_sent_.load());
  std::swap(filters_own_, o.filters_own_);
  std::swap(group_, o.group_);
  std::swap(group_size_, o.group_size_);
  std::swap(max_datagram_, o.max_datagram_);
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// One segmented send: at most this many datagrams, and this many bytes in all (one IP packet
// before the cutting).
constexpr std::size_t kMaxSegmentedBytes = 65507;
constexpr std::size_t kControlSize = CMSG_SPACE(sizeof(std::uint16_t));
constexpr std::size_t kReceiveControlSize =
    CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(std::uint32_t));

// How many of datagrams[0, count) go down as one segmented send: a run of `full`-sized ones,
// of which only the last may be shorter.
std::size_t run_length(const std::string_view* datagrams, std::size_t count,
                       std::size_t full) noexcept {
  const std::size_t segment = datagrams[0].size();
  if (segment != full) return 1;
  std::size_t n = 1, bytes = segment;
  while (n < count && n < kMaxRun && datagrams[n - 1].size() == segment &&
         datagrams[n].size() <= segment && bytes + datagrams[n].size() <= kMaxSegmentedBytes &&
         datagrams[n].size() > 0) {
    bytes += datagrams[n].size();
    ++n;
  }
  return n;
}

}  // namespace

ReceiveBatch::ReceiveBatch(std::size_t count, std::size_t buffer_size)
    : buffer_size_(buffer_size),
      storage_(count * buffer_size),
      from_(count),
      iov_(count),
      headers_(count),
      control_(count * kReceiveControlSize) {
  for (std::size_t i = 0; i < count; ++i) {
    iov_[i] = {storage_.data() + i * buffer_size, buffer_size};
  }
  datagrams_.reserve(count);
}

// Lists the datagrams of the first `receptions` buffers, cutting coalesced runs at the size
// the kernel reports.
void ReceiveBatch::split(std::size_t receptions) {
  datagrams_.clear();
  for (std::size_t i = 0; i < receptions; ++i) {
    msghdr& m = headers_[i].msg_hdr;
    const std::string_view bytes(storage_.data() + i * buffer_size_, headers_[i].msg_len);
    const bool truncated = (m.msg_flags & MSG_TRUNC) != 0;
    std::size_t segment = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        segment = size > 0 ? static_cast<std::size_t>(size) : 0;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        std::memcpy(&socket_drops_, CMSG_DATA(c), sizeof socket_drops_);
      }
    }
    if (segment == 0 || truncated) {
      datagrams_.push_back({bytes, i, truncated, socket_drops_});
      continue;
    }
    for (std::size_t at = 0; at < bytes.size(); at += segment) {
      datagrams_.push_back({bytes.substr(at, segment), i, false, socket_drops_});
    }
  }
}

std::size_t Socket::send(const std::string_view* datagrams, std::size_t count) const noexcept {
  constexpr std::size_t kPerCall = 64;  // a stack-sized batch; the kernel caps one call at 1024
  std::array<mmsghdr, kPerCall> headers{};
  std::array<iovec, kPerCall> iov{};
  std::array<std::size_t, kPerCall> runs{};
  std::array<std::array<char, kControlSize>, kPerCall> control{};
  std::size_t sent = 0, done = 0;
  while (done < count) {
    // As many messages as fit this call, each a run of datagrams (one without segmentation).
    const bool segmented = segmentation_.load(std::memory_order_relaxed);
    std::size_t messages = 0, datagrams_in_call = 0;
    while (messages < kPerCall && done + datagrams_in_call < count &&
           datagrams_in_call < kPerCall) {
      const std::string_view* first = datagrams + done + datagrams_in_call;
      const std::size_t left =
          std::min(count - done - datagrams_in_call, kPerCall - datagrams_in_call);
      const std::size_t run = segmented ? run_length(first, left, max_datagram_) : 1;
      msghdr& m = headers[messages].msg_hdr;
      m = {};
      m.msg_name = const_cast<sockaddr_storage*>(&group_);
      m.msg_namelen = group_size_;
      m.msg_iov = &iov[datagrams_in_call];
      m.msg_iovlen = run;
      for (std::size_t k = 0; k < run; ++k) {
        iov[datagrams_in_call + k] = {const_cast<char*>(first[k].data()), first[k].size()};
      }
      if (run > 1) {
        m.msg_control = control[messages].data();
        m.msg_controllen = kControlSize;
        cmsghdr* c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto segment = static_cast<std::uint16_t>(first[0].size());
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
      }
      runs[messages++] = run;
      datagrams_in_call += run;
    }
    // Counted before the call: the looped-back copies are dropped (and counted by the kernel)
    // before it returns, and own_dropped() must not lag behind them.
    runs_sent_.fetch_add(messages, std::memory_order_relaxed);
    const int r = ::sendmmsg(fd_, headers.data(), static_cast<unsigned>(messages), 0);
    runs_sent_.fetch_sub(messages - static_cast<std::size_t>(std::max(r, 0)),
                         std::memory_order_relaxed);
    if (r > 0) {
      for (int k = 0; k < r; ++k) {
        sent += runs[static_cast<std::size_t>(k)];
        done += runs[static_cast<std::size_t>(k)];
      }
    } else if (errno == EINTR) {
      continue;
    } else if (runs[0] > 1 &&
               (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
      // This kernel or device does not segment: send them one by one, from now on.
      segmentation_.store(false, std::memory_order_relaxed);
    } else {
      done += runs[0];  // the first run was refused: skip it (counted), send the rest
    }
  }
  return sent;
}

bool Socket::receive(ReceiveBatch& batch, int timeout_ms) {
  batch.datagrams_.clear();
  if (timeout_ms > 0) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready <= 0) return ready == 0 || errno == EINTR;
  }
  for (std::size_t i = 0; i < batch.headers_.size(); ++i) {
    msghdr& m = batch.headers_[i].msg_hdr;
    m = {};
    m.msg_name = &batch.from_[i];
    m.msg_namelen = sizeof batch.from_[i];
    m.msg_iov = &batch.iov_[i];
    m.msg_iovlen = 1;
    m.msg_control = batch.control_.data() + i * kReceiveControlSize;
    m.msg_controllen = kReceiveControlSize;
  }
  const int n = ::recvmmsg(fd_, batch.headers_.data(), static_cast<unsigned>(batch.headers_.size()),
                           MSG_DONTWAIT, nullptr);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  batch.split(static_cast<std::size_t>(n));
  return true;
}

std::string address_of(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    return format_host_port(host, ntohs(v4->sin_port));
  }
  if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return format_host_port(host, ntohs(v6->sin6_port));
  }
  return "";
}

Source source_of(const sockaddr_storage& a) noexcept {
  Source s;
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    std::memcpy(s.host.data(), &v4->sin_addr, sizeof v4->sin_addr);
    s.port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    std::memcpy(s.host.data(), &v6->sin6_addr, sizeof v6->sin6_addr);
    s.port = ntohs(v6->sin6_port);
  }
  return s;
}

}  // namespace psycho::multicast
