// Noticing that the client of a non-streaming request has gone away, so its generation can stop.
// cpp-httplib 0.11 gives a handler no handle on its connection, only the peer's and our address;
// the connection's socket is found among the process' descriptors by those addresses (Linux,
// /proc/self/fd). The socket stays open (owned by the handler's own thread) until the handler returns.
#pragma once

#include <string>

namespace lfm::server {

class PeerWatch {
 public:
  // An invalid watch (socket not found, non-Linux) never reports a close.
  PeerWatch(const std::string& remote_addr, int remote_port, const std::string& local_addr, int local_port);
  // True once the peer has closed or reset the connection (poll POLLRDHUP/POLLHUP/POLLERR, no wait).
  bool PeerClosed() const;
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace lfm::server
