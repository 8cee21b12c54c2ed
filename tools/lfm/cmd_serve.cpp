// lfm serve: an OpenAI-compatible HTTP server over one loaded model (src/server/server.h).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "admission_options.h"
#include "commands.h"
#include "common_options.h"
#include "server/server.h"

namespace lfm::cli {

namespace {

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void RegisterServe(CLI::App& app, Runners& runners) {
  struct Opts {
    ModelOptions model;
    AdmissionOptions admission;
    server::ServerOptions server;
    int64_t cache_ram_mib = 512;
    int64_t image_cache_ram_mib = 128;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Serve the model over HTTP with OpenAI's API: POST /v1/chat/completions (streaming, images as data:\n"
      "URLs, tools, response_format json_schema / json_object, llama-server's json_schema and grammar, the\n"
      "latter in Lark syntax), POST /v1/completions, GET /v1/models, /health and /metrics (Prometheus).\n"
      "Remote image URLs are refused (nothing is fetched) and local paths are never read from a request.\n"
      "Prints \"lfm serve: listening on http://HOST:PORT\" on stderr once ready; SIGINT/SIGTERM stop\n"
      "accepting, let the requests in flight finish and exit 0.");
  SetExamples(sub, {
      R"ex(lfm serve -m models/LFM2.5-VL-450M --port 8080)ex",
      R"ex(lfm serve -m models/LFM2-350M --host 0.0.0.0 --port 0 --parallel 4 --queue 32)ex",
  });
  o->model.Add(sub);
  sub->add_option("--host", o->server.host, "Address to listen on")->capture_default_str();
  sub->add_option("--port", o->server.port, "Port (0 = any free port; the bound one is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub->add_option("--parallel", o->server.parallel, "Requests generating at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_option("--queue", o->server.queue, "Requests waiting for a slot; more get 503 + Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  sub->add_option("-n,--max-tokens", o->server.default_max_tokens,
                  "Tokens generated when a request sets neither max_tokens nor max_completion_tokens")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  sub->add_option("--cache-ram", o->cache_ram_mib,
                  "MiB of decoder snapshots kept for prefix reuse (a request that starts like an earlier one,\n"
                  "e.g. the same system prompt or the history of a multi-turn chat, prefills only the rest);\n"
                  "least recently used evicted first; 0 = off")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  sub->add_option("--image-cache-ram", o->image_cache_ram_mib,
                  "MiB of image embeddings kept (the same image sent again is not re-encoded); 0 = off")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  sub->add_option("--alias", o->server.model_id, "Model name in /v1/models and responses (default: the directory name)");
  o->admission.Add(sub);
  runners.emplace_back(sub, [o]() {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("serve", st);
    // SIGINT/SIGTERM are taken by a watcher thread (sigwait), not an async handler: it may then call
    // Stop(), which is not async-signal-safe. Blocked here, before any thread starts, so every
    // thread inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not a dead server

    auto engine = o->model.Load();
    if (!engine) return kExitFailure;
    engine->SetCacheOptions(CacheOptions{static_cast<size_t>(o->cache_ram_mib) << 20,
                                         static_cast<size_t>(o->image_cache_ram_mib) << 20});
    server::ServerOptions so = o->server;
    so.limits = o->admission.limits;
    if (so.model_id.empty()) so.model_id = BaseName(o->model.model_dir);
    server::Server srv(*engine, so);
    auto port = srv.Bind();
    if (!port.ok()) {
      std::fprintf(stderr, "lfm serve: %s\n", port.status().message().c_str());
      return kExitFailure;
    }
    std::atomic<bool> done{false};
    // The watcher lives until Run() returns (a second signal while draining is harmless), so the
    // wake-up below always reaches a running thread.
    std::thread watcher([&srv, &done, stop_signals] {
      for (;;) {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        if (done.load()) return;
        std::fprintf(stderr, "lfm serve: %s received; finishing the requests in flight\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        srv.Stop();
      }
    });
    std::fprintf(stderr, "lfm serve: listening on http://%s:%d\n",
                 so.host.find(':') != std::string::npos ? ("[" + so.host + "]").c_str() : so.host.c_str(), *port);
    std::fflush(stderr);
    Status st = srv.Run();
    // Run() also returns when the server fails on its own: wake the watcher so it can be joined.
    done = true;
    pthread_kill(watcher.native_handle(), SIGTERM);
    watcher.join();
    if (!st.ok()) {
      std::fprintf(stderr, "lfm serve: %s\n", st.message().c_str());
      return kExitFailure;
    }
    std::fprintf(stderr, "lfm serve: stopped\n");
    return kExitOk;
  });
}

}  // namespace lfm::cli
