// `lfm serve`: an OpenAI-compatible HTTP server over one loaded Engine (cpp-httplib).
//
//   POST /v1/chat/completions   chat, streaming (SSE), images as data: URLs, tools, JSON Schema / Lark
//   POST /v1/completions        raw completion
//   GET  /v1/models             the one model served
//   GET  /health                status, slots and the request limits
//   GET  /metrics               Prometheus text
//
// Concurrency: one Engine shared by every request, a fresh Session per request (Engine::Chat /
// Complete); `parallel` requests generate at once, `queue` more wait, the rest get 503 with
// Retry-After. A streaming client that disconnects stops its generation at the next token.
// Stop() stops accepting connections and lets the requests in flight finish; Run() then returns.
#pragma once

#include <memory>
#include <string>

#include "lfm/admission.h"
#include "lfm/engine.h"
#include "lfm/status.h"

namespace lfm::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0 = any free port (Bind() returns it)
  int parallel = 2;              // requests generating at once
  int queue = 16;                // requests waiting for a slot; past that, 503
  int default_max_tokens = 512;  // when a request gives no max_tokens / max_completion_tokens
  std::string model_id;          // the name in /v1/models and responses
  AdmissionLimits limits;        // max_request_bytes caps the body (413); the rest is checked per request
  int retry_after_seconds = 1;
};

class Server {
 public:
  Server(Engine& engine, ServerOptions options);
  ~Server();
  // Binds the listening socket; returns the port (useful with port 0).
  Result<int> Bind();
  // Serves until Stop(), then waits for the requests in flight to finish.
  Status Run();
  // Stop accepting; may be called from any thread (not from a signal handler).
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lfm::server
