#include "moe/intervention_effects.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "moe/error.hpp"
#include "moe/session.hpp"

namespace moe {

std::vector<float> softmax_probabilities(std::span<const float> logits) {
  std::vector<float> probs(logits.size());
  if (logits.empty()) return probs;
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float value : logits) sum += std::exp(static_cast<double>(value) - max_logit);
  for (size_t i = 0; i < logits.size(); ++i)
    probs[i] = static_cast<float>(std::exp(static_cast<double>(logits[i]) - max_logit) / sum);
  return probs;
}

double kl_divergence(std::span<const float> p, std::span<const float> q) {
  if (p.size() != q.size()) throw Error("KL divergence of distributions of different sizes");
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    if (q[i] <= 0) return std::numeric_limits<double>::infinity();
    kl += static_cast<double>(p[i]) * std::log(static_cast<double>(p[i]) / q[i]);
  }
  return kl > 0 ? kl : 0;  // rounding can leave a tiny negative for equal distributions
}

namespace {

// log-softmax of one row, in double.
std::vector<double> log_softmax(std::span<const float> row) {
  const float max_logit = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (float value : row) sum += std::exp(static_cast<double>(value) - max_logit);
  const double log_sum = max_logit + std::log(sum);
  std::vector<double> out(row.size());
  for (size_t i = 0; i < row.size(); ++i) out[i] = row[i] - log_sum;
  return out;
}

std::vector<int32_t> continue_text(const std::shared_ptr<const Model>& model,
                                   const std::shared_ptr<Backend>& backend,
                                   std::span<const int32_t> tokens,
                                   const RoutingInterventions& interventions,
                                   const InterventionEffectOptions& options) {
  SessionOptions session_options;
  session_options.n_ctx =
      std::min(static_cast<int>(tokens.size()) + options.continuation_tokens,
               std::max(model->config().n_ctx_train, static_cast<int>(tokens.size()) + 1));
  session_options.capture_routing = false;
  session_options.interventions = interventions;
  Session session(model, backend, session_options);
  session.set_tokens(tokens);
  const int room = session.n_ctx() - static_cast<int>(tokens.size());
  return session.generate(std::min(options.continuation_tokens, room), options.sampling,
                          [&](int32_t token) { return token != options.stop_token; });
}

}  // namespace

InterventionEffect measure_intervention_effect(std::shared_ptr<const Model> model,
                                               std::shared_ptr<Backend> backend,
                                               std::span<const int32_t> tokens,
                                               const RoutingInterventions& interventions,
                                               const InterventionEffectOptions& options) {
  if (model == nullptr || backend == nullptr) throw Error("intervention effect: no model");
  if (tokens.empty()) throw Error("intervention effect: no tokens to run");
  interventions.validate(model->config());
  const ModelConfig& config = model->config();
  const int total = static_cast<int>(tokens.size());
  const auto n_vocab = static_cast<size_t>(config.n_vocab);

  InterventionEffect effect;
  effect.interventions = interventions;
  ModelRun* runs[2] = {&effect.base, &effect.changed};
  std::unique_ptr<ForwardState> states[2];
  for (int side = 0; side < 2; ++side) {
    states[side] = backend->new_state(model, total);
    if (side == 1) states[side]->set_interventions(interventions);
    runs[side]->trace =
        RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used, config.moe_layers());
    if (side == 1) runs[side]->trace.set_interventions(interventions);
    runs[side]->token_nll.assign(static_cast<size_t>(total - 1), 0.0f);
  }
  effect.position_kl.assign(static_cast<size_t>(total), 0.0);

  // Batch rules route the tokens of a call jointly: the whole sequence in one call, both sides
  // alike so that the two differ only by the interventions.
  const int chunk = interventions.batch_rule() ? total : std::max(1, options.prefill_chunk);
  std::vector<float> logits[2];
  int top1_changed = 0;
  for (int start = 0; start < total; start += chunk) {
    const int count = std::min(chunk, total - start);
    const auto part = tokens.subspan(static_cast<size_t>(start), static_cast<size_t>(count));
    for (int side = 0; side < 2; ++side) {
      backend->forward(*states[side], part, start, LogitsMode::All, logits[side],
                       &runs[side]->trace);
    }
    for (int t = 0; t < count; ++t) {
      const int position = start + t;
      std::vector<double> log_probs[2];
      for (int side = 0; side < 2; ++side) {
        log_probs[side] = log_softmax(std::span<const float>(logits[side])
                                          .subspan(static_cast<size_t>(t) * n_vocab, n_vocab));
        if (position + 1 < total) {
          runs[side]->token_nll[static_cast<size_t>(position)] = static_cast<float>(
              -log_probs[side][static_cast<size_t>(tokens[static_cast<size_t>(position) + 1])]);
        }
      }
      double kl = 0;
      size_t best[2] = {0, 0};
      for (size_t i = 0; i < n_vocab; ++i) {
        kl += std::exp(log_probs[0][i]) * (log_probs[0][i] - log_probs[1][i]);
        for (int side = 0; side < 2; ++side)
          if (log_probs[side][i] > log_probs[side][best[side]]) best[side] = i;
      }
      effect.position_kl[static_cast<size_t>(position)] = std::max(kl, 0.0);
      top1_changed += best[0] != best[1] ? 1 : 0;
      if (position == total - 1) {
        for (int side = 0; side < 2; ++side) {
          runs[side]->next_probs.resize(n_vocab);
          for (size_t i = 0; i < n_vocab; ++i)
            runs[side]->next_probs[i] = static_cast<float>(std::exp(log_probs[side][i]));
        }
      }
    }
  }

  for (ModelRun* run : runs) {
    double sum = 0;
    for (float nll : run->token_nll) sum += nll;
    run->mean_nll = run->token_nll.empty() ? 0 : sum / static_cast<double>(run->token_nll.size());
    run->perplexity = std::exp(run->mean_nll);
    run->stats = compute_routing_stats(run->trace);
  }
  effect.next_token_kl = effect.position_kl.back();
  double kl_sum = 0;
  for (double kl : effect.position_kl) kl_sum += kl;
  effect.mean_kl = kl_sum / total;
  effect.top1_changed_share = static_cast<double>(top1_changed) / total;

  if (options.continuation_tokens > 0) {
    effect.base.continuation = continue_text(model, backend, tokens, {}, options);
    effect.changed.continuation = continue_text(model, backend, tokens, interventions, options);
  }
  return effect;
}

}  // namespace moe
