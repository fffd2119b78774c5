#include "worker.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "moe/error.hpp"
#include "moe/model_loading.hpp"
#include "moe/prompt_sets.hpp"
#include "moe/session.hpp"
#include "moe/tokenizer.hpp"
#include "backend_choice.hpp"
#include "context_limit.hpp"
#include "token_text.hpp"
#include "worker_state.hpp"

namespace moescope::gui {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// "cpu-exact" is the CPU backend with f32 activations (the CLI's --exact).
std::shared_ptr<moe::Backend> make_backend(const std::string& kind, int n_threads) {
  if (kind == "cpu-exact") return make_compute_backend("cpu", n_threads, true);
  if (kind == "cpu" || kind == "gl") return make_compute_backend(kind, n_threads, false);
  throw moe::Error("unknown backend '" + kind + "' (cpu, cpu-exact or gl)");
}

}  // namespace

Worker::Worker(WorkerOptions options) : options_(options), state_(std::make_unique<State>()) {
  state_->backend = make_backend("cpu", options_.n_threads);
  snapshot_ = std::make_shared<const Snapshot>();
  if (options_.backend != "cpu") set_backend(options_.backend);
  thread_ = std::thread([this] {
    run();
    // The GL backend's objects belong to a context current on this thread: release the model,
    // sessions and backend here, not on the UI thread (whose context is the window's).
    state_.reset();
  });
}

Worker::~Worker() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  request_serial_.fetch_add(1);  // abandons a prompt in progress at its next chunk
  stop_generation_ = true;
  wake_.notify_all();
  thread_.join();
}

void Worker::set_backend(std::string kind) {
  {
    std::lock_guard lock(mutex_);
    pending_backend_ = std::move(kind);
    // Recompute the latest prompt on the new backend (a newer pending prompt stays as it is).
    if (!pending_prompt_) pending_prompt_ = PromptRequest{snapshot_->prompt, Clock::now()};
    ++counters_.prompts_posted;
  }
  request_serial_.fetch_add(1);  // a prompt in progress gives way at its next chunk
  wake_.notify_all();
}

void Worker::apply_pending_backend() {
  std::optional<std::string> kind;
  {
    std::lock_guard lock(mutex_);
    kind.swap(pending_backend_);
  }
  State& state = *state_;
  if (!kind || (state.backend && backend_kind(*state.backend) == *kind)) return;
  try {
    std::shared_ptr<moe::Backend> backend = make_backend(*kind, options_.n_threads);
    if (state.model) {
      moe::SessionOptions session_options;
      session_options.n_ctx = options_.n_ctx;
      if (state.session) session_options.interventions = state.session->interventions();
      auto session = std::make_unique<moe::Session>(state.model, backend, session_options);
      state.session.reset();  // the old backend's cache goes before the new one fills
      state.session = std::move(session);
      state.n_prompt_tokens = 0;
      auto info = std::make_shared<ModelInfo>(*state.info);
      info->backend = backend_kind(*backend);
      state.info = std::move(info);
    }
    state.backend = std::move(backend);
  } catch (const std::exception& error) {
    post_message({"The " + *kind + " backend could not start",
                  std::string(error.what()) + "\nThe " +
                      (state.backend ? backend_kind(*state.backend) : std::string("cpu")) +
                      " backend stays in use.",
                  true});
  }
}

void Worker::load_model(std::string path) {
  {
    std::lock_guard lock(mutex_);
    pending_load_ = LoadRequest{std::move(path), std::nullopt};
  }
  request_serial_.fetch_add(1);
  stop_generation_ = true;
  wake_.notify_all();
}

void Worker::load_demo_model(std::string path, moe::RandomModelSpec spec) {
  {
    std::lock_guard lock(mutex_);
    pending_load_ = LoadRequest{std::move(path), std::move(spec)};
  }
  request_serial_.fetch_add(1);
  stop_generation_ = true;
  wake_.notify_all();
}

void Worker::set_prompt(std::string text) {
  {
    std::lock_guard lock(mutex_);
    pending_prompt_ = PromptRequest{std::move(text), Clock::now()};
    pending_generate_.reset();  // a generation asked for the old prompt no longer applies
    ++counters_.prompts_posted;
  }
  request_serial_.fetch_add(1);
  stop_generation_ = true;
  wake_.notify_all();
}

void Worker::generate(GenerateRequest request) {
  {
    std::lock_guard lock(mutex_);
    pending_generate_ = std::make_pair(request, Clock::now());
  }
  wake_.notify_all();
}

void Worker::compute_domains(std::filesystem::path prompts_folder) {
  {
    std::lock_guard lock(mutex_);
    pending_domains_ = std::move(prompts_folder);
  }
  wake_.notify_all();
}

bool Worker::domains_pending() const {
  std::lock_guard lock(mutex_);
  return pending_domains_.has_value();
}

void Worker::cancel_load() { cancel_load_ = true; }

void Worker::stop_generation() {
  std::lock_guard lock(mutex_);
  pending_generate_.reset();
  stop_generation_ = true;
}

std::shared_ptr<const Snapshot> Worker::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

WorkerStatus Worker::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

WorkerCounters Worker::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::vector<WorkerMessage> Worker::take_messages() {
  std::lock_guard lock(mutex_);
  std::vector<WorkerMessage> taken;
  taken.swap(messages_);
  return taken;
}

bool Worker::nothing_pending() const {
  return !pending_load_ && !pending_prompt_ && !pending_generate_ && !pending_domains_ &&
         !pending_playground_ && !pending_trace_;
}

bool Worker::idle() const {
  std::lock_guard lock(mutex_);
  return !running_request_ && nothing_pending();
}

bool Worker::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return became_idle_.wait_for(lock, timeout,
                               [this] { return !running_request_ && nothing_pending(); });
}

void Worker::run() {
  for (;;) {
    std::optional<LoadRequest> load;
    std::optional<PromptRequest> prompt;
    std::optional<std::pair<GenerateRequest, Clock::time_point>> generation;
    std::optional<std::filesystem::path> domains;
    std::optional<PlaygroundRequest> playground;
    std::optional<TraceRequest> trace;
    uint64_t request_id = 0;
    {
      std::unique_lock lock(mutex_);
      running_request_ = false;
      if (nothing_pending()) {
        status_ = WorkerStatus{};
        became_idle_.notify_all();
      }
      wake_.wait(lock, [this] { return quit_ || !nothing_pending(); });
      if (quit_) return;
      running_request_ = true;
      // A model load comes first: a prompt is then computed on the new model.
      if (pending_load_) {
        load.swap(pending_load_);
      } else if (pending_trace_) {
        trace.swap(pending_trace_);
      } else if (pending_prompt_) {
        prompt.swap(pending_prompt_);
        ++counters_.prompts_started;
      } else if (pending_playground_) {
        playground.swap(pending_playground_);
      } else if (pending_generate_) {
        generation.swap(pending_generate_);
        stop_generation_ = false;
      } else {
        // Stays pending until finished: it gives way to any other request meanwhile.
        domains = *pending_domains_;
      }
      request_id = request_serial_.load();
    }
    if (load) {
      do_load(*load);
    } else if (trace) {
      do_trace(*trace);
    } else if (prompt) {
      do_prompt(*prompt, request_id);
    } else if (playground) {
      do_playground(*playground);
    } else if (generation) {
      do_generate(generation->first, generation->second);
    } else if (domains) {
      if (do_domains(*domains, request_id)) {
        std::lock_guard lock(mutex_);
        if (pending_domains_ == domains) pending_domains_.reset();
      }
    }
  }
}

void Worker::set_status(WorkerActivity activity, int done, int total, std::string subject) {
  std::lock_guard lock(mutex_);
  status_.activity = activity;
  status_.done = done;
  status_.total = total;
  status_.subject = std::move(subject);
}

void Worker::post_message(WorkerMessage message) {
  std::lock_guard lock(mutex_);
  messages_.push_back(std::move(message));
}

bool Worker::newer_request_than(uint64_t request_id) const {
  return request_serial_.load() != request_id;
}

void Worker::do_load(const LoadRequest& request) {
  set_status(WorkerActivity::Loading, 0, 0,
             std::filesystem::path(request.path).filename().string());
  State& state = *state_;
  try {
    std::error_code ignored;
    if (request.demo_spec && !std::filesystem::exists(request.path, ignored)) {
      const auto parent = std::filesystem::path(request.path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
      moe::write_random_model(*request.demo_spec, request.path);
    }
    cancel_load_ = false;
    constexpr int kMegabyte = 1 << 20;
    moe::LoadResult loaded = moe::load_model_with_progress(
        request.path, options_.n_ctx, [&](uint64_t done, uint64_t total) {
          set_status(WorkerActivity::Loading, static_cast<int>(done / kMegabyte),
                     static_cast<int>(total / kMegabyte),
                     std::filesystem::path(request.path).filename().string());
          // A newer load request replaces this one.
          std::lock_guard lock(mutex_);
          return !cancel_load_.load() && !pending_load_ && !quit_;
        });
    auto model = std::move(loaded.model);
    std::unique_ptr<moe::Tokenizer> tokenizer;
    try {
      tokenizer = std::make_unique<moe::Tokenizer>(moe::Tokenizer::from_gguf(model->file()));
    } catch (const moe::Error& error) {
      throw moe::Error(request.path + ": tokenizer: " + error.what());
    }
    if (model->config().n_expert <= 0) {
      throw moe::Error(request.path + ": a dense model (no experts): nothing to route");
    }
    moe::SessionOptions session_options;
    session_options.n_ctx = options_.n_ctx;
    auto session = std::make_unique<moe::Session>(model, state.backend, session_options);

    auto info = std::make_shared<ModelInfo>();
    info->path = request.path;
    info->config = model->config();
    info->name = info->config.name.empty() ? std::filesystem::path(request.path).filename().string()
                                           : info->config.name;
    // Models written by moe::write_random_model (the demo) carry this name.
    info->random_weights = starts_with(info->config.name, "moescope-random");
    info->parameters = model->parameter_counts();
    info->tensor_types = model->tensor_types();
    info->tokenizer_model = tokenizer->model_name();
    info->n_vocab = tokenizer->n_vocab();
    info->file_bytes = std::filesystem::file_size(request.path, ignored);
    info->backend = backend_kind(*state.backend);
    info->n_ctx = session->n_ctx();

    // Only now that everything succeeded does the new model replace the current one.
    state.model = std::move(model);
    state.tokenizer = std::move(tokenizer);
    state.session = std::move(session);
    state.info = std::move(info);
    state.add_bos = moe::prompt_bos(*state.tokenizer, state.model->file()).has_value();
    ++state.model_generation;
    state.n_prompt_tokens = 0;
    // Domain results belong to the old model; a computation asked for on it is dropped.
    state.domains.reset();
    state.domain_job.reset();
    state.playground.reset();
    state.domain_texts.clear();
    {
      std::lock_guard lock(mutex_);
      pending_domains_.reset();
    }
    if (!loaded.warning.empty()) post_message({"This model is larger than the free memory",
                                                loaded.warning, false});
  } catch (const moe::LoadCancelled&) {
    bool replaced = false;
    {
      std::lock_guard lock(mutex_);
      replaced = pending_load_.has_value() || quit_;
    }
    if (!replaced) {
      post_message({"Loading cancelled",
                    std::filesystem::path(request.path).filename().string() +
                        " was not opened; the current model stays.",
                    false});
    }
    return;
  } catch (const std::exception& error) {
    post_message({"Could not open the model", error.what(), true});
    return;
  }
  // Show the current prompt on the new model.
  do_prompt(PromptRequest{state.prompt, Clock::now()}, request_serial_.load());
}

void Worker::do_prompt(const PromptRequest& request, uint64_t request_id) {
  apply_pending_backend();
  State& state = *state_;
  state.prompt = request.text;
  leave_remote_trace();
  if (!state.session) return;  // no model yet: the prompt is kept for when one loads
  const auto started = Clock::now();

  std::vector<int32_t> tokens;
  state.prompt_warning.clear();
  try {
    if (state.add_bos) tokens.push_back(*state.tokenizer->bos_id());
    const std::vector<int32_t> text_ids = state.tokenizer->encode(request.text);
    tokens.insert(tokens.end(), text_ids.begin(), text_ids.end());
  } catch (const std::exception& error) {
    post_message({"Could not tokenize the prompt", error.what(), true});
    return;
  }
  const int n_ctx = state.session->n_ctx();
  if (static_cast<int>(tokens.size()) > n_ctx) {
    std::string note = moescope::context_cut_note(tokens.size(), n_ctx);  // as moescope-cli says
    note[0] = 'T';
    state.prompt_warning = note + ".";
    tokens.resize(static_cast<size_t>(n_ctx));
  }

  const std::vector<int32_t>& current = state.session->tokens();
  const auto mismatch = std::mismatch(current.begin(), current.end(), tokens.begin(), tokens.end());
  const int reused = static_cast<int>(mismatch.first - current.begin());
  const int total = static_cast<int>(tokens.size());
  try {
    if (tokens.empty()) {
      state.session->clear();
    } else {
      // Step through the changed suffix in chunks: progress for long prompts, and a newer
      // keystroke is noticed between chunks instead of after the whole prompt.
      auto last_publish = Clock::now();
      const int chunk = std::max(options_.chunk_tokens, 1);
      int done = std::min(reused, total - 1);
      while (done < total) {
        const int end = std::min(total, done + chunk);
        state.session->set_tokens(std::span(tokens.data(), static_cast<size_t>(end)));
        done = end;
        state.n_prompt_tokens = done;
        if (done < total) {
          if (newer_request_than(request_id)) {
            std::lock_guard lock(mutex_);
            ++counters_.prompts_abandoned;
            return;
          }
          set_status(WorkerActivity::Prefilling, done, total);
          if (Milliseconds(Clock::now() - last_publish).count() >= options_.publish_interval_ms) {
            publish(request, false, Milliseconds(Clock::now() - started).count(), reused,
                    done - reused);
            last_publish = Clock::now();
          }
        }
      }
    }
  } catch (const std::exception& error) {
    post_message({"Could not compute the prompt", error.what(), true});
    return;
  }
  state.n_prompt_tokens = total;
  const int computed = total == 0 ? 0 : std::max(1, total - reused);
  refresh_playground();
  publish(request, true, Milliseconds(Clock::now() - started).count(), std::min(reused, total),
          computed);
  std::lock_guard lock(mutex_);
  ++counters_.prompts_completed;
}

void Worker::do_generate(const GenerateRequest& request, Clock::time_point posted) {
  State& state = *state_;
  if (!state.session) return;
  if (state.remote_shown) {
    post_message({"Generation needs a local model", kRemoteTraceNote, false});
    return;
  }
  if (state.session->tokens().empty()) {
    post_message({"Nothing to continue", "Type a prompt first: generation continues it.", false});
    return;
  }
  const int room = state.session->n_ctx() - static_cast<int>(state.session->tokens().size());
  const int n_tokens = std::min(request.n_tokens, room);
  if (n_tokens <= 0) {
    post_message({"The context is full",
                  "The model's context of " + std::to_string(state.session->n_ctx()) +
                      " positions has no room for more tokens.",
                  false});
    return;
  }
  const auto started = Clock::now();
  const PromptRequest as_prompt{state.prompt, posted};
  if (!request.replay.empty()) {
    try {
      const size_t count = std::min(request.replay.size(), static_cast<size_t>(n_tokens));
      state.session->append(std::span(request.replay.data(), count));
    } catch (const std::exception& error) {
      post_message({"Could not restore the generated tokens", error.what(), true});
    }
    publish(as_prompt, true, Milliseconds(Clock::now() - started).count(),
            state.n_prompt_tokens, static_cast<int>(state.session->tokens().size()) - state.n_prompt_tokens);
    return;
  }
  auto last_publish = Clock::now();
  int generated = 0;
  set_status(WorkerActivity::Generating, 0, n_tokens);
  try {
    state.session->generate(n_tokens, request.sampling, [&](int32_t) {
      ++generated;
      set_status(WorkerActivity::Generating, generated, n_tokens);
      if (Milliseconds(Clock::now() - last_publish).count() >= options_.publish_interval_ms) {
        publish(as_prompt, true, Milliseconds(Clock::now() - started).count(),
                static_cast<int>(state.session->tokens().size()) - generated, generated);
        last_publish = Clock::now();
      }
      const bool eos =
          state.tokenizer->eos_id() && state.session->tokens().back() == *state.tokenizer->eos_id();
      return !stop_generation_.load() && !eos;
    });
  } catch (const std::exception& error) {
    post_message({"Generation stopped", error.what(), true});
  }
  refresh_playground();
  publish(as_prompt, true, Milliseconds(Clock::now() - started).count(),
          static_cast<int>(state.session->tokens().size()) - generated, generated);
}

bool Worker::other_request_pending() const {
  std::lock_guard lock(mutex_);
  return quit_ || pending_load_ || pending_prompt_ || pending_generate_ || pending_playground_;
}

bool Worker::do_domains(const std::filesystem::path& prompts_folder, uint64_t request_id) {
  State& state = *state_;
  if (!state.session) return true;  // no model: nothing to route
  if (state.remote_shown) return true;  // the local model's domains would not be the trace's
  if (state.domain_job && (state.domain_job->folder != prompts_folder ||
                           state.domain_job->model_generation != state.model_generation)) {
    state.domain_job.reset();
  }
  if (!state.domain_job) {
    moe::DomainRouting routing(moe::find_prompt_sets(prompts_folder), state.model->config());
    if (routing.n_prompts() == 0) {
      post_message({"No prompt sets",
                    prompts_folder.string() +
                        " holds no <domain>.txt prompt files (one prompt per line).",
                    true});
      return true;
    }
    state.domain_job = State::DomainJob{prompts_folder, state.model_generation, std::move(routing)};
  }
  moe::DomainRouting& routing = state.domain_job->routing;

  // The session holds the user's prompt (and generated tokens): put them back when done.
  const std::vector<int32_t> saved = state.session->tokens();
  bool finished = false;
  try {
    const int total = static_cast<int>(routing.n_prompts());
    const std::optional<int32_t> bos =
        state.add_bos ? state.tokenizer->bos_id() : std::optional<int32_t>();
    while (!routing.done()) {
      if (other_request_pending() || newer_request_than(request_id)) break;
      set_status(WorkerActivity::Domains, static_cast<int>(routing.n_routed()), total,
                 routing.next_domain());
      routing.route_next(*state.session, *state.tokenizer, bos);
    }
    if (routing.done()) {
      auto result = std::make_shared<DomainResult>();
      result->model_generation = state.model_generation;
      for (const moe::PromptSet& set : routing.sets()) result->domains.push_back(set.name);
      result->top_k = state.model->config().n_expert_used;
      result->n_prompts = total;
      std::vector<moe::DomainTrace> traces = routing.take_traces();
      for (const moe::DomainTrace& domain : traces) {
        result->stats.push_back(moe::compute_routing_stats(domain.trace));
        result->n_tokens += domain.trace.n_tokens();
      }
      result->specialization = moe::domain_specialization(traces);
      state.domains = std::move(result);
      state.domain_job.reset();
      finished = true;
    }
  } catch (const std::exception& error) {
    post_message({"Could not route the prompt sets", error.what(), true});
    state.domain_job.reset();
    finished = true;
  }
  set_status(WorkerActivity::Idle, 0, 0);
  bool load_pending = false;
  {
    std::lock_guard lock(mutex_);
    load_pending = pending_load_.has_value() || quit_;
  }
  if (load_pending) return finished;  // the session is about to be replaced
  const auto started = Clock::now();
  try {
    state.session->clear();
    if (!saved.empty()) state.session->set_tokens(saved);
  } catch (const std::exception& error) {
    post_message({"Could not compute the prompt", error.what(), true});
    return finished;
  }
  if (finished) {
    publish(PromptRequest{state.prompt, started}, true,
            Milliseconds(Clock::now() - started).count(), 0, static_cast<int>(saved.size()));
  }
  return finished;
}

std::string backend_kind(const moe::Backend& backend) {
  return computes_exactly_on_cpu(backend) ? "cpu-exact" : backend.name();
}

std::vector<TokenView> token_views(const moe::Tokenizer& tokenizer,
                                   const std::vector<int32_t>& ids, int n_prompt) {
  std::vector<std::string> texts = moe::display_token_texts(tokenizer, ids);
  std::vector<TokenView> views;
  views.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    TokenView view;
    view.id = ids[i];
    view.piece = tokenizer.token_piece(ids[i]);
    view.text = std::move(texts[i]);
    view.generated = static_cast<int>(i) >= n_prompt;
    view.special = tokenizer.token_type(ids[i]) == moe::TokenType::CONTROL;
    views.push_back(std::move(view));
  }
  return views;
}

void Worker::publish(const PromptRequest& request, bool complete, double compute_ms, int reused,
                     int computed) {
  const State& state = *state_;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->model_generation = state.model_generation;
  snapshot->model = state.info;
  snapshot->prompt = request.text;
  const std::vector<int32_t>& tokens = state.session->tokens();
  snapshot->tokens = token_views(*state.tokenizer, tokens, state.n_prompt_tokens);
  snapshot->n_prompt_tokens = std::min(state.n_prompt_tokens, static_cast<int>(tokens.size()));
  snapshot->complete = complete;
  snapshot->trace = state.session->trace();
  snapshot->stats = moe::compute_routing_stats(snapshot->trace);
  snapshot->compute_ms = compute_ms;
  snapshot->reused_tokens = reused;
  snapshot->computed_tokens = computed;
  snapshot->warning = state.prompt_warning;
  snapshot->domains = state.domains;
  snapshot->playground = state.playground;
  snapshot->latency_ms = Milliseconds(Clock::now() - request.posted).count();

  std::lock_guard lock(mutex_);
  snapshot->version = snapshot_->version + 1;
  snapshot_ = std::move(snapshot);
  ++counters_.snapshots_published;
}

}  // namespace moescope::gui
