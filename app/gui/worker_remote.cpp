// The worker's routing sources that are not the local model: an SGLang server or a trace file
// (File > Connect to server, File > Import trace). The waiting happens here, on the worker
// thread; the UI keeps drawing and its Cancel reaches the request through cancel_load().
#include <algorithm>

#include "moe/error.hpp"
#include "moe/http_client.hpp"
#include "moe/routing_stats.hpp"
#include "moe/token_display.hpp"
#include "worker.hpp"
#include "worker_state.hpp"

namespace moescope::gui {

namespace {

// What the views read of a model, for a trace that has only a shape.
std::shared_ptr<const ModelInfo> remote_model_info(const moe::ImportedTrace& imported,
                                                   const std::string& backend) {
  auto info = std::make_shared<ModelInfo>();
  info->path = imported.source;
  info->name = imported.model.empty() ? imported.source : imported.model;
  info->routing_source = imported.source;
  info->backend = backend;
  moe::ModelConfig& config = info->config;
  const moe::RoutingTrace& trace = imported.trace;
  config.architecture = trace.chosen_experts_only() ? "server" : "imported";
  config.name = info->name;
  config.n_layer = trace.n_layer();
  config.n_expert = trace.n_expert();
  config.n_expert_used = trace.top_k();
  config.layer_is_moe.assign(static_cast<size_t>(std::max(0, trace.n_layer())), false);
  for (int layer : trace.moe_layers()) config.layer_is_moe[static_cast<size_t>(layer)] = true;
  info->n_ctx = trace.n_tokens();
  return info;
}

std::vector<TokenView> remote_tokens(const moe::ImportedTrace& imported) {
  std::vector<std::string> pieces;
  for (const moe::RoutingTokenInfo& token : imported.tokens) pieces.push_back(token.text);
  const std::vector<std::string> shown = moe::display_token_texts(pieces);
  std::vector<TokenView> tokens;
  for (size_t t = 0; t < imported.tokens.size(); ++t) {
    TokenView view;
    view.id = imported.tokens[t].id;
    view.piece = pieces[t];
    view.text = shown[t];
    view.generated = static_cast<int>(t) >= imported.prompt_tokens;
    tokens.push_back(std::move(view));
  }
  return tokens;
}

}  // namespace

void Worker::show_trace(std::string subject, std::string prompt, TraceFetch fetch) {
  {
    std::lock_guard lock(mutex_);
    pending_trace_ = TraceRequest{std::move(subject), std::move(prompt), std::move(fetch)};
    pending_prompt_.reset();  // the trace replaces what a queued prompt would have shown
    pending_generate_.reset();
  }
  request_serial_.fetch_add(1);  // a prompt in progress gives way
  stop_generation_ = true;
  wake_.notify_all();
}

bool Worker::leave_remote_trace() {
  State& state = *state_;
  if (!state.remote_shown) return false;
  state.remote_shown = false;
  // The local model's results come back as if it had just been opened.
  ++state.model_generation;
  state.domains.reset();
  state.domain_job.reset();
  state.playground.reset();
  return true;
}

void Worker::do_trace(const TraceRequest& request) {
  set_status(WorkerActivity::Loading, 0, 0, request.subject);
  cancel_load_ = false;
  const auto posted = Clock::now();
  const auto cancelled = [this] {
    std::lock_guard lock(mutex_);
    return cancel_load_.load() || quit_ || pending_load_.has_value() || pending_trace_.has_value();
  };
  moe::ImportedTrace imported;
  try {
    imported = request.fetch(cancelled);
    if (imported.tokens.size() != static_cast<size_t>(imported.trace.n_tokens()))
      throw moe::Error(request.subject + ": the tokens do not match the routing");
    if (imported.trace.n_tokens() == 0)
      throw moe::Error(request.subject + ": no tokens were routed");
  } catch (const moe::HttpCancelled&) {
    bool replaced = false;
    {
      std::lock_guard lock(mutex_);
      replaced = pending_load_.has_value() || pending_trace_.has_value() || quit_;
    }
    if (!replaced)
      post_message(
          {"Request cancelled", request.subject + ": the current model and trace stay.", false});
    return;
  } catch (const std::exception& error) {
    post_message({"Could not get the routing",
                  std::string(error.what()) + "\nThe current model and trace stay.", true});
    return;
  }
  State& state = *state_;
  state.remote_shown = true;
  ++state.model_generation;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->model_generation = state.model_generation;
  snapshot->model = remote_model_info(imported, state.info ? state.info->backend : "cpu");
  snapshot->prompt = request.prompt;
  snapshot->tokens = remote_tokens(imported);
  snapshot->n_prompt_tokens = std::min(imported.prompt_tokens, imported.trace.n_tokens());
  snapshot->trace = std::move(imported.trace);
  snapshot->stats = moe::compute_routing_stats(snapshot->trace);
  snapshot->latency_ms = Milliseconds(Clock::now() - posted).count();
  snapshot->compute_ms = snapshot->latency_ms;
  snapshot->computed_tokens = snapshot->trace.n_tokens();
  if (snapshot->trace.chosen_experts_only())
    snapshot->warning = std::string("Routing from ") + snapshot->model->routing_source + ": " +
                        moe::kChosenExpertsOnlyNote + ".";
  std::lock_guard lock(mutex_);
  snapshot->version = snapshot_->version + 1;
  snapshot_ = std::move(snapshot);
  ++counters_.snapshots_published;
}

}  // namespace moescope::gui
