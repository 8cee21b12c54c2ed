#include "server/peer_watch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

namespace lfm::server {

namespace {

// "127.0.0.1", 5000 from a socket address (IPv4 or IPv6).
bool Describe(const sockaddr_storage& ss, std::string* addr, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    if (inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf) == nullptr) return false;
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf) == nullptr) return false;
    *port = ntohs(a->sin6_port);
  } else {
    return false;
  }
  *addr = buf;
  return true;
}

}  // namespace

PeerWatch::PeerWatch(const std::string& remote_addr, int remote_port, const std::string& local_addr, int local_port) {
#ifdef __linux__
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    sockaddr_storage peer{}, self{};
    socklen_t peer_len = sizeof peer, self_len = sizeof self;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_len) != 0) continue;
    std::string pa, sa;
    int pp = -1, sp = -1;
    if (!Describe(peer, &pa, &pp) || !Describe(self, &sa, &sp)) continue;
    if (pp == remote_port && pa == remote_addr && sp == local_port && (local_addr.empty() || sa == local_addr)) {
      fd_ = fd;
      break;
    }
  }
  closedir(dir);
#endif
}

bool PeerWatch::PeerClosed() const {
  if (fd_ < 0) return false;
  pollfd p{};
  p.fd = fd_;
#ifdef POLLRDHUP
  p.events = POLLRDHUP;
#endif
  if (poll(&p, 1, 0) <= 0) return false;
#ifdef POLLRDHUP
  if (p.revents & POLLRDHUP) return true;
#endif
  return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace lfm::server
