#pragma once
// The compute interface a Session drives. A backend runs the forward pass of a Model; a
// ForwardState is one sequence's memory on that backend (its KV cache). The CPU backend and
// the GL compute backend implement the same interface.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/routing.hpp"

namespace moe {

// One sequence on one backend: its model and the KV cache of positions [0, n_filled()).
class ForwardState {
public:
  virtual ~ForwardState() = default;
  virtual const std::shared_ptr<const Model>& model() const = 0;
  virtual int n_ctx() const = 0;     // positions the cache holds at most
  virtual int n_filled() const = 0;  // positions computed so far (valid cache prefix)

  // Routing interventions applied by forward() on this sequence (see moe/interventions.hpp).
  // Changing them does not invalidate the cache by itself: the caller (Session) recomputes.
  void set_interventions(RoutingInterventions interventions) {
    interventions_ = std::move(interventions);
  }
  const RoutingInterventions& interventions() const { return interventions_; }

private:
  RoutingInterventions interventions_;
};

enum class LogitsMode {
  Last,  // logits of the last token of the call only: n_vocab floats
  All,   // logits of every token of the call: n_tokens * n_vocab floats, token-major
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // A fresh sequence with room for `n_ctx` positions. Throws moe::Error if n_ctx < 1.
  virtual std::unique_ptr<ForwardState> new_state(std::shared_ptr<const Model> model,
                                                  int n_ctx) = 0;

  // Runs `tokens` at positions [pos0, pos0 + tokens.size()), attending to the cached positions
  // before pos0; afterwards state.n_filled() == pos0 + tokens.size() (positions past that are
  // forgotten). Needs pos0 <= state.n_filled() and the end within n_ctx, token ids within the
  // vocabulary; otherwise throws moe::Error and leaves the state unchanged.
  // When `trace` is non-null, stores a RoutingRecord for every (position, MoE layer) computed.
  virtual void forward(ForwardState& state, std::span<const int32_t> tokens, int pos0,
                       LogitsMode mode, std::vector<float>& logits_out, RoutingTrace* trace) = 0;
};

}  // namespace moe
