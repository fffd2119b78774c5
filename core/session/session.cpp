#include "moe/session.hpp"

#include <algorithm>
#include <cmath>

#include "moe/error.hpp"

namespace moe {

int default_context(const ModelConfig& config) { return std::min(config.n_ctx_train, 4096); }

Session::Session(std::shared_ptr<const Model> model, std::shared_ptr<Backend> backend,
                 SessionOptions options)
    : model_(std::move(model)),
      backend_(std::move(backend)),
      prefill_chunk_(std::max(1, options.prefill_chunk)),
      capture_routing_(options.capture_routing) {
  if (model_ == nullptr || backend_ == nullptr) throw Error("session: needs a model and a backend");
  const ModelConfig& config = model_->config();
  const int n_ctx = options.n_ctx > 0 ? options.n_ctx : default_context(config);
  state_ = backend_->new_state(model_, n_ctx);
  trace_ = RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used, config.moe_layers());
  options.interventions.validate(config);
  state_->set_interventions(options.interventions);
  trace_.set_interventions(options.interventions);
}

void Session::set_interventions(const RoutingInterventions& interventions) {
  interventions.validate(model_->config());
  if (interventions == state_->interventions()) return;
  state_->set_interventions(interventions);
  trace_.resize(0);
  trace_.set_interventions(interventions);
  if (!tokens_.empty()) compute_from(0);
}

void Session::check_tokens(std::span<const int32_t> tokens, int total) const {
  if (total > n_ctx()) {
    throw Error("context overflow: " + std::to_string(total) +
                " tokens do not fit in the session's context of " + std::to_string(n_ctx()));
  }
  const int n_vocab = model_->config().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      throw Error("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                  " is outside the vocabulary (" + std::to_string(n_vocab) + " tokens)");
    }
  }
}

void Session::compute_from(int from) {
  const int total = static_cast<int>(tokens_.size());
  // Batch rules route the tokens of a call jointly: the whole sequence, in one call.
  const bool whole_sequence = state_->interventions().batch_rule();
  if (whole_sequence) from = 0;
  const int chunk = whole_sequence ? std::max(total, 1) : prefill_chunk_;
  reused_tokens_ = from;
  computed_tokens_ = total - from;
  trace_.resize(std::min(from, trace_.n_tokens()));
  try {
    for (int start = from; start < total; start += chunk) {
      const int count = std::min(chunk, total - start);
      backend_->forward(
          *state_,
          std::span(tokens_).subspan(static_cast<size_t>(start), static_cast<size_t>(count)), start,
          LogitsMode::Last, last_logits_, capture_routing_ ? &trace_ : nullptr);
    }
  } catch (...) {
    // Keep only what the cache holds; the logits of that prefix are gone.
    tokens_.resize(static_cast<size_t>(state_->n_filled()));
    trace_.resize(std::min(state_->n_filled(), trace_.n_tokens()));
    last_logits_.clear();
    throw;
  }
}

void Session::set_tokens(std::span<const int32_t> tokens) {
  check_tokens(tokens, static_cast<int>(tokens.size()));
  if (tokens.empty()) {
    clear();
    return;
  }
  const size_t limit =
      std::min({tokens.size(), tokens_.size(), static_cast<size_t>(state_->n_filled())});
  size_t common = 0;
  while (common < limit && tokens[common] == tokens_[common]) ++common;
  if (common == tokens.size() && common == tokens_.size() && !last_logits_.empty()) {
    reused_tokens_ = static_cast<int>(common);  // nothing changed
    computed_tokens_ = 0;
    return;
  }
  // The last token is always computed: its logits are the session's output.
  common = std::min(common, tokens.size() - 1);
  tokens_.assign(tokens.begin(), tokens.end());
  compute_from(static_cast<int>(common));
}

void Session::append(std::span<const int32_t> tokens) {
  if (tokens.empty()) return;
  check_tokens(tokens, static_cast<int>(tokens_.size() + tokens.size()));
  const int from = static_cast<int>(tokens_.size());
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  compute_from(from);
}

void Session::clear() {
  tokens_.clear();
  last_logits_.clear();
  trace_.resize(0);
  reused_tokens_ = 0;
  computed_tokens_ = 0;
}

void Session::forward_every_position(
    std::span<const int32_t> tokens, const std::function<void(int, std::span<const float>)>& on_row) {
  check_tokens(tokens, static_cast<int>(tokens.size()));
  clear();
  if (tokens.empty()) return;
  tokens_.assign(tokens.begin(), tokens.end());
  const int total = static_cast<int>(tokens_.size());
  const auto n_vocab = static_cast<size_t>(model_->config().n_vocab);
  std::vector<float> logits;
  computed_tokens_ = total;
  // Batch rules route the tokens of a call jointly: the whole sequence, in one call.
  const int chunk = state_->interventions().batch_rule() ? total : prefill_chunk_;
  try {
    for (int start = 0; start < total; start += chunk) {
      const int count = std::min(chunk, total - start);
      backend_->forward(
          *state_,
          std::span(tokens_).subspan(static_cast<size_t>(start), static_cast<size_t>(count)), start,
          LogitsMode::All, logits, capture_routing_ ? &trace_ : nullptr);
      for (int t = 0; t < count; ++t) {
        on_row(start + t, std::span<const float>(logits.data() + static_cast<size_t>(t) * n_vocab, n_vocab));
      }
    }
  } catch (...) {
    clear();
    throw;
  }
  last_logits_.assign(logits.end() - static_cast<ptrdiff_t>(n_vocab), logits.end());
}

std::vector<float> Session::token_nll(std::span<const int32_t> tokens) {
  std::vector<float> nll(tokens.empty() ? 0 : tokens.size() - 1);
  forward_every_position(tokens, [&](int position, std::span<const float> row) {
    if (static_cast<size_t>(position) + 1 >= tokens.size()) return;
    // -log softmax(row)[next] = logsumexp(row) - row[next], with max-subtraction.
    const float max_logit = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (float value : row) sum += std::exp(static_cast<double>(value) - max_logit);
    const double log_sum_exp = max_logit + std::log(sum);
    nll[static_cast<size_t>(position)] = static_cast<float>(
        log_sum_exp - row[static_cast<size_t>(tokens[static_cast<size_t>(position) + 1])]);
  });
  return nll;
}

std::vector<int32_t> Session::predicted_tokens(std::span<const int32_t> tokens) {
  std::vector<int32_t> predicted(tokens.size());
  forward_every_position(tokens, [&](int position, std::span<const float> row) {
    predicted[static_cast<size_t>(position)] =
        static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
  });
  return predicted;
}

std::vector<int32_t> Session::generate(int n_tokens, const SamplingOptions& sampling,
                                       const TokenCallback& on_token) {
  if (tokens_.empty() || last_logits_.empty()) {
    throw Error("generate: the session has no tokens to continue; set a prompt first");
  }
  Sampler sampler(sampling);
  std::vector<int32_t> generated;
  for (int i = 0; i < n_tokens; ++i) {
    if (static_cast<int>(tokens_.size()) >= n_ctx()) {
      throw Error("context overflow: the context of " + std::to_string(n_ctx()) +
                  " positions is full after " + std::to_string(generated.size()) +
                  " generated tokens");
    }
    const int32_t token = sampler.sample(last_logits_);
    append(std::span(&token, 1));
    generated.push_back(token);
    if (on_token && !on_token(token)) break;
  }
  return generated;
}

}  // namespace moe
