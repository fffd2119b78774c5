#pragma once
// A corpus profile: the routing of a whole data set kept as counts and sums, so that every
// metric of core/analysis (domain and vocabulary specialization, consecutive repetition,
// cross-layer consistency, co-activation, REAP saliency, ESFT expert sets, expert-cache hit
// rates) can be computed without the traces. Documents are added one at a time; memory grows
// with the model (E x E tables per layer) and the vocabulary (per token id tables), never with
// the number of tokens. Stored as a .moeprofile file (moe/corpus_profile_file.hpp,
// docs/moeprofile.md).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "moe/consecutive_repetition.hpp"
#include "moe/domain_specialization.hpp"
#include "moe/expert_cache.hpp"
#include "moe/reap_saliency.hpp"
#include "moe/routing.hpp"
#include "moe/vocabulary_specialization.hpp"

namespace moe {

// The model a profile was made with (a profile only adds documents routed by the same shape).
struct ProfileModel {
  std::string name;          // general.name or the file name
  std::string architecture;  // e.g. "qwen2moe"
  int n_layer = 0;
  int n_expert = 0;
  int top_k = 0;
  std::vector<int> moe_layers;
  bool operator==(const ProfileModel&) const = default;
};

// Counts of one MoE layer.
struct ProfileLayer {
  int layer = 0;                         // model layer
  int64_t tokens = 0;                    // tokens with a record at this layer
  std::vector<int64_t> token_counts;     // [e]: tokens whose top-k set held e
  std::vector<int64_t> top1_counts;      // [e]: tokens whose first choice was e
  std::vector<double> gate_mass;         // [e]: sum of e's final gate weights
  std::vector<int64_t> coactivation;     // [a*E+b]: moe/expert_coactivation.hpp (diagonal: chosen)
  std::vector<int64_t> transitions;      // [a*E+b]: a here, b at the next MoE layer (all pairs);
  std::vector<int64_t> top1_transitions; //   and of the first choices; empty at the last layer
  ReapCounts reap;                       // moe/reap_saliency.hpp
  RepetitionCounts repetition;           // moe/consecutive_repetition.hpp
  CacheCounts cache;                     // moe/expert_cache.hpp
  TokenExpertTable by_input;             // keyed by the token at t
  TokenExpertTable by_next;              // keyed by the text's token at t+1
  TokenExpertTable by_predicted;         // keyed by the model's predicted token after t (OLMoE)
};

struct CorpusProfile {
  ProfileModel model;
  std::string source;     // what was read (the --data path), for the reader and --resume
  int64_t documents = 0;  // corpus documents counted (what --resume skips); the caller's count
  int64_t tokens = 0;     // tokens routed (BOS included when the model puts one)
  std::vector<ProfileLayer> layers;           // one per MoE layer, in layer order
  std::map<std::string, DomainCounts> domains;  // by domain label ("" for unlabelled text)
};

// An empty profile for a model of this shape.
CorpusProfile make_corpus_profile(const ProfileModel& model);
// The ProfileModel of a trace's shape (name and architecture left empty).
ProfileModel profile_model_of(const RoutingTrace& trace);

// Adds the routing of one document (or one context-sized part of it; repetition, transitions
// and the cache curves never cross from one call to the next): `tokens[t]` is the id routed at position t of `trace` (trace.n_tokens()
// ids); `predicted[t]`, when given, the model's most likely token after position t.
// Throws moe::Error when the trace's shape is not the profile's.
void add_routing(CorpusProfile& profile, const RoutingTrace& trace,
                  std::span<const int32_t> tokens, const std::string& domain,
                  std::span<const int32_t> predicted = {});

// Experts no token chose at a layer (never activated).
std::vector<int> never_activated(const ProfileLayer& layer);

}  // namespace moe
