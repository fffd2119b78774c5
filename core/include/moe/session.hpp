#pragma once
// One conversation with a model: its tokens, the backend's KV cache for them, the routing trace
// and the logits after the last token. Editing the tokens recomputes only from the first
// changed one. Not thread-safe: one worker owns a Session (the GUI reads published copies).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "moe/backend.hpp"
#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/routing.hpp"
#include "moe/sampling.hpp"

namespace moe {

struct SessionOptions {
  int n_ctx = 0;                // positions the session can hold; 0: min(n_ctx_train, 4096)
  bool capture_routing = true;  // record a RoutingRecord per (token, MoE layer)
  int prefill_chunk = 256;      // tokens per backend call when many are computed at once
  RoutingInterventions interventions{};  // router changes (moe/interventions.hpp); none by default
};

// The context a session holds when SessionOptions::n_ctx is 0: min(n_ctx_train, 4096).
int default_context(const ModelConfig& config);

// Called with each generated token (already appended); return false to stop generating.
using TokenCallback = std::function<bool(int32_t token)>;

class Session {
public:
  // Throws moe::Error if n_ctx < 1.
  Session(std::shared_ptr<const Model> model, std::shared_ptr<Backend> backend,
          SessionOptions options = {});

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& shared_model() const { return model_; }
  Backend& backend() const { return *backend_; }
  int n_ctx() const { return state_->n_ctx(); }

  // Makes `tokens` the session's tokens. The cache and trace of the longest common prefix with
  // the current tokens are kept; only the rest is computed (at least the last token, whose
  // logits are needed). Throws moe::Error (session unchanged) if the tokens do not fit in
  // n_ctx or an id is outside the vocabulary.
  void set_tokens(std::span<const int32_t> tokens);
  // Adds tokens after the current ones. Same errors as set_tokens.
  void append(std::span<const int32_t> tokens);
  void clear();

  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Logits after the last token (n_vocab floats); empty when there are no tokens.
  std::span<const float> last_logits() const { return last_logits_; }
  const RoutingTrace& trace() const { return trace_; }

  // How many tokens the last set_tokens/append/generate step kept from the cache, and how many
  // it computed.
  int reused_tokens() const { return reused_tokens_; }
  int computed_tokens() const { return computed_tokens_; }

  // Routing interventions: validated against the model (moe::Error, session unchanged, when one
  // is out of range), then every token is recomputed with them (the cache is invalid) and the
  // trace records them. With a batch rule (capacity, expert-choice) the routing of a token
  // depends on the whole sequence, so while one is on every set_tokens/append/generate step
  // recomputes the whole sequence in one backend call: generating re-routes all earlier tokens
  // each step (their routing may change as the text grows), and nothing is reused from the cache.
  void set_interventions(const RoutingInterventions& interventions);
  const RoutingInterventions& interventions() const { return state_->interventions(); }

  // Turning capture off skips the router copies (positions computed meanwhile have no record).
  void set_capture_routing(bool capture) { capture_routing_ = capture; }
  bool capture_routing() const { return capture_routing_; }

  // Negative log-likelihood (nats) of each token given the ones before it:
  // result[i] = -log p(tokens[i + 1] | tokens[0..i]), tokens.size() - 1 values.
  // Leaves the session holding `tokens` (all recomputed, since every position's logits count).
  std::vector<float> token_nll(std::span<const int32_t> tokens);
  // The model's most likely next token after each position (the argmax of that position's
  // logits, ties to the lower id), tokens.size() values. Leaves the session holding `tokens`.
  std::vector<int32_t> predicted_tokens(std::span<const int32_t> tokens);

  // Samples up to `n_tokens` tokens after the current ones, appending each and calling
  // `on_token` (which may stop early). Returns the generated tokens. Throws moe::Error when the
  // session is empty or the context is full before `n_tokens` were generated.
  std::vector<int32_t> generate(int n_tokens, const SamplingOptions& sampling,
                                const TokenCallback& on_token = {});

private:
  void check_tokens(std::span<const int32_t> tokens, int total) const;
  // Computes tokens_[from..] (the cache holds [0, from)), updating logits and trace.
  void compute_from(int from);
  // Computes every position of `tokens` from an empty cache (one call under a batch rule, else
  // chunks) and hands each position's logits to `on_row`; leaves the session holding `tokens`.
  void forward_every_position(std::span<const int32_t> tokens,
                              const std::function<void(int, std::span<const float>)>& on_row);

  std::shared_ptr<const Model> model_;
  std::shared_ptr<Backend> backend_;
  std::unique_ptr<ForwardState> state_;
  int prefill_chunk_ = 256;
  bool capture_routing_ = true;
  std::vector<int32_t> tokens_;
  std::vector<float> last_logits_;
  RoutingTrace trace_;
  int reused_tokens_ = 0;
  int computed_tokens_ = 0;
};

}  // namespace moe
