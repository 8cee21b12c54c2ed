#include "server/server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "lfm/chat.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/peer_watch.h"
#include "server/request_slots.h"

namespace lfm::server {

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string RandomHex(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = kHex[rng() & 15];
  return s;
}

void SendError(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(e.ToJson(), "application/json");
}

// Runs one generation given its callbacks; the endpoint decides which engine call that is.
// The third argument: "the client went away", polled while the run waits for the shared decoder.
using RunFn = std::function<Result<Outcome>(const TokenCallback&, const ProgressCallback&, const std::function<bool()>&)>;

// Which endpoint's shapes a response takes.
enum class Shape { kChat, kText };

// What a streamed generation hands from its worker thread to the HTTP writer.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;  // SSE text, in order
  bool started = false;            // input accepted: the engine began prefill or produced a token
  bool finished = false;           // the worker is done (events may remain)
  std::optional<ApiError> early_error;  // refused before starting: answered as an HTTP error
  std::atomic<bool> cancelled{false};   // the client went away
  std::thread worker;
};

}  // namespace

struct Server::Impl {
  Engine& engine;
  ServerOptions options;
  httplib::Server http;
  RequestSlots slots;
  Metrics metrics;
  // Graceful stop: new generating requests are refused (503) while the ones in flight finish;
  // httplib's own stop() would cut running streams, so it is called only once they are done.
  std::atomic<bool> stopping{false};
  std::mutex flight_mu;
  std::condition_variable flight_cv;
  int in_flight = 0;  // generating requests admitted and not yet fully answered
  std::mutex grammar_mu;
  std::map<std::pair<int, std::string>, std::shared_ptr<const CompiledGrammar>> grammars;  // by (kind, source)

  Impl(Engine& e, ServerOptions o) : engine(e), options(std::move(o)), slots(options.parallel, options.queue) {}

  void Routes();
  Result<std::shared_ptr<const CompiledGrammar>> Grammar(const Constraint& c);
  std::optional<ApiError> BuildGenerateOptions(const SamplingFields& s, const std::optional<Constraint>& constraint,
                                               GenerateOptions* out);
  void Generate(const httplib::Request& req, httplib::Response& res, Shape shape, bool stream, bool include_usage,
                bool has_tools, const ResponseIds& ids, RunFn run, const std::vector<std::string>& image_params);
  void HandleChat(const httplib::Request& req, httplib::Response& res);
  void HandleCompletion(const httplib::Request& req, httplib::Response& res);
  std::string HealthJson() const;
  std::string ModelJson() const;
};

Result<std::shared_ptr<const CompiledGrammar>> Server::Impl::Grammar(const Constraint& c) {
  const auto key = std::make_pair(static_cast<int>(c.kind), c.source);
  {
    std::lock_guard<std::mutex> lock(grammar_mu);
    auto it = grammars.find(key);
    if (it != grammars.end()) return it->second;
  }
  // Compiled outside the lock: a slow schema does not hold up other requests' lookups.
  LFM_ASSIGN_OR_RETURN(auto g, engine.CompileGrammar(c.kind, c.source));
  std::lock_guard<std::mutex> lock(grammar_mu);
  if (grammars.size() >= 64) grammars.clear();  // bounded; recompiling is the only cost
  grammars[key] = g;
  return g;
}

std::optional<ApiError> Server::Impl::BuildGenerateOptions(const SamplingFields& s,
                                                           const std::optional<Constraint>& constraint,
                                                           GenerateOptions* out) {
  SamplingParams p = engine.DefaultSampling();
  if (s.temperature) p.temperature = *s.temperature;
  if (s.top_p) p.top_p = *s.top_p;
  if (s.top_k) p.top_k = *s.top_k;
  if (s.min_p) p.min_p = *s.min_p;
  if (s.repetition_penalty) p.repetition_penalty = *s.repetition_penalty;
  // No seed: a fresh one per request, as OpenAI's API behaves.
  p.seed = s.seed ? *s.seed : std::random_device{}() * uint64_t{0x100000001b3} ^ std::random_device{}();
  if (Status st = p.Validate(); !st.ok()) return FromStatus(st);
  out->sampling = p;
  out->max_tokens = s.max_tokens ? *s.max_tokens : options.default_max_tokens;
  out->stop = s.stop;
  out->ignore_eos = s.ignore_eos;
  if (constraint) {
    auto g = Grammar(*constraint);
    if (!g.ok()) return FromStatus(g.status(), constraint->param);
    out->grammar = *g;
  }
  return std::nullopt;
}

void Server::Impl::Generate(const httplib::Request& req, httplib::Response& res, Shape shape, bool stream,
                            bool include_usage, bool has_tools, const ResponseIds& ids, RunFn run,
                            const std::vector<std::string>& image_params) {
  const auto t0 = Clock::now();
  if (stopping.load()) {
    ApiError e;
    e.http_status = 503;
    e.type = "server_error";
    e.code = "shutting_down";
    e.message = "the server is shutting down";
    res.set_header("Connection", "close");
    SendError(res, e);
    return;
  }
  // Counted from here until the last byte is written (for a stream: its releaser runs).
  {
    std::lock_guard<std::mutex> lock(flight_mu);
    ++in_flight;
  }
  auto flight = std::shared_ptr<void>(nullptr, [this](void*) {
    std::lock_guard<std::mutex> lock(flight_mu);
    --in_flight;
    flight_cv.notify_all();
  });
  // A client that gives up while its request waits for a slot leaves the queue at once (its turn
  // passes to the next in line) instead of generating for nobody later.
  PeerWatch waiting_peer(req.remote_addr, req.remote_port, req.local_addr, req.local_port);
  bool gone = false;
  auto lease = slots.Acquire([&waiting_peer] { return waiting_peer.PeerClosed(); }, &gone);
  if (gone) {
    metrics.CountCancelled();
    res.status = 499;  // nginx's "client closed request": nobody reads it, /metrics counts it
    return;
  }
  if (!lease) {
    ApiError e;
    e.http_status = 503;
    e.type = "server_error";
    e.code = "server_busy";
    e.message = "the server is busy: " + std::to_string(slots.parallel()) + " requests are generating and " +
                std::to_string(slots.queue()) + " are waiting (--parallel, --queue); retry later";
    res.set_header("Retry-After", std::to_string(options.retry_after_seconds));
    SendError(res, e);
    return;
  }

  if (!stream) {
    PeerWatch peer(req.remote_addr, req.remote_port, req.local_addr, req.local_port);
    bool first = true, cancelled = false;
    auto on_token = [&](int32_t, std::string_view) {
      if (first) metrics.ObserveTimeToFirstToken(Since(t0));
      first = false;
      if (peer.PeerClosed()) cancelled = true;
      return !cancelled;
    };
    auto on_progress = [&](const Progress&) {
      if (peer.PeerClosed()) cancelled = true;
      return !cancelled;
    };
    auto gone = [&] {
      if (peer.PeerClosed()) cancelled = true;
      return cancelled;
    };
    auto out = run(on_token, on_progress, gone);
    if (cancelled) metrics.CountCancelled();
    if (!out.ok()) {
      SendError(res, FromChatError(out.status(), image_params));
      return;
    }
    if (out->generation.finish_reason == "error") {
      ApiError e = FromStatus(Internal("generation failed: " + out->generation.error));
      SendError(res, e);
      return;
    }
    metrics.CountTokens(Usage(out->generation)["prompt_tokens"].get<int>(), static_cast<int64_t>(out->generation.ids.size()),
                        out->generation.timings.cached_prompt_tokens);
    metrics.ObserveLatency(Since(t0));
    const OJson body = shape == Shape::kChat ? ChatCompletion(ids, *out) : TextCompletion(ids, *out);
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
    return;
  }

  // Streaming: the generation runs on a worker thread and hands SSE events to this connection's
  // writer. The HTTP status is chosen once the engine has accepted the input (its first progress
  // report or token), so a request refused by the engine still gets a 4xx, not a 200 stream.
  auto state = std::make_shared<StreamState>();
  // Queues an event; `starts` marks the input as accepted (the role chunk alone does not).
  auto push = [state](std::string event, bool starts) {
    std::lock_guard<std::mutex> lock(state->mu);
    state->events.push_back(std::move(event));
    if (starts) state->started = true;
    state->cv.notify_all();
  };
  auto mark_started = [state] {
    std::lock_guard<std::mutex> lock(state->mu);
    if (!state->started) {
      state->started = true;
      state->cv.notify_all();
    }
  };
  std::shared_ptr<RequestSlots::Lease> shared_lease(std::move(lease));
  const int tool_start_id = [&] {
    auto t = engine.Tokenize("<|tool_call_start|>", false);
    return t.ok() && t->size() == 1 ? (*t)[0] : -1;
  }();
  state->worker = std::thread([this, state, push, mark_started, shared_lease, shape, include_usage, has_tools, ids,
                               run, t0, tool_start_id, image_params] {
    std::string streamed;        // content sent as deltas so far
    bool holding = false;        // inside a tool call: content waits for the final parse
    bool first = true;
    if (shape == Shape::kChat)
      push(SseEvent(ChatChunk(ids, OJson{{"role", "assistant"}, {"content", ""}}, "", include_usage)), false);
    auto on_progress = [&](const Progress&) {
      mark_started();
      return !state->cancelled.load();
    };
    auto on_token = [&](int32_t id, std::string_view text) {
      if (first) metrics.ObserveTimeToFirstToken(Since(t0));
      first = false;
      if (has_tools && id >= 0 && id == tool_start_id) holding = true;
      if (!text.empty() && !holding) {
        streamed.append(text);
        push(SseEvent(shape == Shape::kChat
                          ? ChatChunk(ids, OJson{{"content", std::string(text)}}, "", include_usage)
                          : TextChunk(ids, std::string(text), "", include_usage)),
             true);
      } else {
        mark_started();
      }
      return !state->cancelled.load();
    };
    auto out = run(on_token, on_progress, [&] { return state->cancelled.load(); });
    if (state->cancelled.load()) metrics.CountCancelled();
    std::lock_guard<std::mutex> lock(state->mu);
    auto emit = [&](const OJson& j) { state->events.push_back(SseEvent(j)); };
    if (!out.ok() || out->generation.finish_reason == "error") {
      ApiError e = !out.ok() ? FromChatError(out.status(), image_params)
                             : FromStatus(Internal("generation failed: " + out->generation.error));
      if (!state->started) {
        state->early_error = e;
        state->events.clear();
      } else {
        // Past the status line: OpenAI's clients raise an APIError for an "error" event.
        state->events.push_back("data: " + e.ToJson() + "\n\n");
      }
    } else {
      const Outcome& o = *out;
      if (shape == Shape::kChat) {
        // Content held back (inside or after a tool call) goes out now.
        if (o.content.size() > streamed.size() && o.content.compare(0, streamed.size(), streamed) == 0)
          emit(ChatChunk(ids, OJson{{"content", o.content.substr(streamed.size())}}, "", include_usage));
        if (!o.tool_calls.empty())
          emit(ChatChunk(ids, OJson{{"tool_calls", ToolCallsJson(ids, o.tool_calls, true)}}, "", include_usage));
        emit(ChatChunk(ids, OJson::object(), FinishReason(o), include_usage));
        if (include_usage) emit(ChatUsageChunk(ids, o.generation));
      } else {
        emit(TextChunk(ids, "", FinishReason(o), include_usage));
        if (include_usage) emit(TextUsageChunk(ids, o.generation));
      }
      state->events.push_back("data: [DONE]\n\n");
      metrics.CountTokens(Usage(o.generation)["prompt_tokens"].get<int>(), static_cast<int64_t>(o.generation.ids.size()),
                          o.generation.timings.cached_prompt_tokens);
      metrics.ObserveLatency(Since(t0));
    }
    state->finished = true;
    state->cv.notify_all();
  });

  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->cv.wait(lock, [&] { return state->started || state->finished; });
    if (state->early_error) {
      lock.unlock();
      state->worker.join();
      SendError(res, *state->early_error);
      return;
    }
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [state](size_t, httplib::DataSink& sink) {
        std::unique_lock<std::mutex> lock(state->mu);
        state->cv.wait(lock, [&] { return !state->events.empty() || state->finished; });
        while (!state->events.empty()) {
          std::string ev = std::move(state->events.front());
          state->events.pop_front();
          lock.unlock();
          const bool ok = sink.write(ev.data(), ev.size());
          lock.lock();
          if (!ok) {
            state->cancelled = true;  // the client went away: stop generating
            return false;
          }
        }
        if (state->finished) sink.done();
        return true;
      },
      [state, flight](bool) {
        // Runs when the response is done or abandoned: make sure the worker stops and is joined.
        state->cancelled = true;
        if (state->worker.joinable()) state->worker.join();
      });
}

void Server::Impl::HandleChat(const httplib::Request& req, httplib::Response& res) {
  RequestParseOptions po;
  po.max_json_depth = options.limits.max_json_depth;
  auto parsed = ParseChatCompletionRequest(req.body, po);
  if (auto* e = std::get_if<ApiError>(&parsed)) return SendError(res, *e);
  auto r = std::make_shared<ChatCompletionRequest>(std::move(std::get<ChatCompletionRequest>(parsed)));
  // Admission checks 1-8 before the request takes a slot (the engine repeats them, cheaply).
  if (Status st = CheckChatRequest(r->engine_request_json, options.limits); !st.ok())
    return SendError(res, FromChatError(st, r->image_params));
  ChatOptions co;
  co.admission = options.limits;
  if (auto e = BuildGenerateOptions(r->sampling, r->constraint, &co.generate)) return SendError(res, *e);
  const ResponseIds ids{"chatcmpl-" + RandomHex(24), static_cast<int64_t>(std::time(nullptr)), options.model_id};
  RunFn run = [this, r, co](const TokenCallback& on_token, const ProgressCallback& on_progress,
                            const std::function<bool()>& gone) -> Result<Outcome> {
    ChatOptions opts = co;
    opts.generate.on_progress = on_progress;
    opts.generate.cancelled = gone;
    LFM_ASSIGN_OR_RETURN(ChatResult c, engine.Chat(r->engine_request_json, opts, on_token));
    return Outcome{std::move(c.generation), std::move(c.content), std::move(c.tool_calls)};
  };
  Generate(req, res, Shape::kChat, r->sampling.stream, r->sampling.include_usage, r->has_tools, ids, run,
           r->image_params);
}

void Server::Impl::HandleCompletion(const httplib::Request& req, httplib::Response& res) {
  RequestParseOptions po;
  po.max_json_depth = options.limits.max_json_depth;
  auto parsed = ParseCompletionRequest(req.body, po);
  if (auto* e = std::get_if<ApiError>(&parsed)) return SendError(res, *e);
  auto r = std::make_shared<CompletionRequest>(std::move(std::get<CompletionRequest>(parsed)));
  if (r->prompt.size() > options.limits.max_text_bytes)
    return SendError(res, BadRequest("/prompt", "longer than max_text_bytes (" +
                                     std::to_string(options.limits.max_text_bytes) + " bytes)", "limit_exceeded"));
  GenerateOptions go;
  if (auto e = BuildGenerateOptions(r->sampling, r->constraint, &go)) return SendError(res, *e);
  const ResponseIds ids{"cmpl-" + RandomHex(24), static_cast<int64_t>(std::time(nullptr)), options.model_id};
  RunFn run = [this, r, go](const TokenCallback& on_token, const ProgressCallback& on_progress,
                            const std::function<bool()>& gone) -> Result<Outcome> {
    GenerateOptions opts = go;
    opts.on_progress = on_progress;
    opts.cancelled = gone;
    LFM_ASSIGN_OR_RETURN(Generation g, engine.Complete(r->prompt, opts, on_token));
    std::string text = g.text;
    return Outcome{std::move(g), std::move(text), {}};
  };
  Generate(req, res, Shape::kText, r->sampling.stream, r->sampling.include_usage, false, ids, run, {});
}

std::string Server::Impl::ModelJson() const {
  return OJson{{"id", options.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "lfm.cpp"}}.dump();
}

std::string Server::Impl::HealthJson() const {
  const ModelInfo& info = engine.info();
  OJson limits = OJson::object();
  for (const auto& l : ListAdmissionLimits(options.limits)) limits[l.name] = l.value;
  OJson j = {{"status", "ok"},
             {"model", options.model_id},
             {"model_type", info.model_type},
             {"max_context", info.max_context},
             {"slots", {{"parallel", slots.parallel()}, {"queue", slots.queue()},
                        {"active", slots.active()}, {"waiting", slots.waiting()}}},
             {"limits", limits}};
  return j.dump();
}

void Server::Impl::Routes() {
  http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleChat(q, s); });
  http.Post("/chat/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleChat(q, s); });
  http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleCompletion(q, s); });
  http.Post("/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleCompletion(q, s); });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& s) {
    s.set_content("{\"object\":\"list\",\"data\":[" + ModelJson() + "]}", "application/json");
  });
  http.Get("/v1/models/(.+)", [this](const httplib::Request& q, httplib::Response& s) {
    if (q.matches[1] != options.model_id) {
      ApiError e = BadRequest("", "model '" + std::string(q.matches[1]) + "' is not served here (this server has '" +
                                      options.model_id + "')", "model_not_found");
      e.http_status = 404;
      return SendError(s, e);
    }
    s.set_content(ModelJson(), "application/json");
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& s) {
    s.set_content(HealthJson(), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& s) {
    s.set_content(metrics.Render(slots.waiting(), slots.active(), slots.parallel(), slots.queue()) +
                      RenderBatchStats(engine.batch_stats()) + RenderCacheStats(engine.cache_stats()),
                  "text/plain; version=0.0.4");
  });

  // Error bodies in OpenAI's shape for what httplib answers itself (404, 413, 400 on a bad request
  // line) and 405 for a known path with the wrong method.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& q, httplib::Response& s) {
    if (!s.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    static const std::map<std::string, std::string> kAllowed = {
        {"/v1/chat/completions", "POST"}, {"/chat/completions", "POST"}, {"/v1/completions", "POST"},
        {"/completions", "POST"},         {"/v1/models", "GET"},         {"/health", "GET"},
        {"/metrics", "GET"}};
    ApiError e;
    e.http_status = s.status;
    if (s.status == 404) {
      auto it = kAllowed.find(q.path);
      if (it != kAllowed.end()) {
        e.http_status = 405;
        e.code = "method_not_allowed";
        e.message = q.method + " is not allowed on " + q.path + " (use " + it->second + ")";
        s.set_header("Allow", it->second);
      } else {
        e.code = "not_found";
        e.message = "no route " + q.method + " " + q.path;
      }
    } else if (s.status == 413) {
      e.code = "request_too_large";
      e.message = "the request body is larger than max_request_bytes (" +
                  std::to_string(options.limits.max_request_bytes) + " bytes; --max-request-bytes)";
    } else {
      e.code = "bad_request";
      e.message = "malformed HTTP request";
    }
    SendError(s, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& s, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    SendError(s, FromStatus(Internal("unexpected exception: " + what)));
  });
  http.set_logger([this](const httplib::Request& q, const httplib::Response& s) {
    static const char* kKnown[] = {"/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions",
                                   "/v1/models", "/health", "/metrics"};
    std::string endpoint = "other";
    for (const char* k : kKnown)
      if (q.path == k) endpoint = k;
    metrics.CountRequest(endpoint, s.status);
  });
}

Server::Server(Engine& engine, ServerOptions options) : impl_(std::make_unique<Impl>(engine, std::move(options))) {
  Impl& m = *impl_;
  if (m.options.model_id.empty()) m.options.model_id = "lfm";
  // Connection threads: every generating or waiting request holds one, plus room for health checks,
  // metrics scrapes and idle keep-alive connections (which hold a thread until their timeout).
  const size_t threads = static_cast<size_t>(m.options.parallel + m.options.queue + 16);
  m.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  m.http.set_payload_max_length(m.options.limits.max_request_bytes);
  m.http.set_keep_alive_timeout(2);
  m.http.set_read_timeout(30);
  m.Routes();
}

Server::~Server() = default;

Result<int> Server::Bind() {
  Impl& m = *impl_;
  if (m.options.port == 0) {
    const int port = m.http.bind_to_any_port(m.options.host);
    if (port <= 0) return IoError("cannot listen on " + m.options.host + " (any port)");
    return port;
  }
  if (!m.http.bind_to_port(m.options.host, m.options.port))
    return IoError("cannot listen on " + m.options.host + ":" + std::to_string(m.options.port) +
                   " (in use, or not an address of this machine)");
  return m.options.port;
}

Status Server::Run() {
  // listen_after_bind returns after stop(), once the connection threads have finished their requests.
  if (!impl_->http.listen_after_bind() && impl_->http.is_running()) return IoError("the server stopped unexpectedly");
  return Status::Ok();
}

void Server::Stop() {
  Impl& m = *impl_;
  m.stopping = true;
  {
    std::unique_lock<std::mutex> lock(m.flight_mu);
    m.flight_cv.wait(lock, [&] { return m.in_flight == 0; });
  }
  m.http.stop();
}

}  // namespace lfm::server
