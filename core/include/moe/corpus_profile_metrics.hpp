#pragma once
// Every routing metric of core/analysis computed from a CorpusProfile, per MoE layer (what
// `moescope-cli profile-report` prints and the profile figures draw).
#include <cstdint>
#include <vector>

#include "moe/consecutive_repetition.hpp"
#include "moe/corpus_profile.hpp"
#include "moe/domain_specialization.hpp"
#include "moe/esft_expert_set.hpp"
#include "moe/expert_cache.hpp"
#include "moe/vocabulary_specialization.hpp"

namespace moe {

struct ProfileLayerMetrics {
  int layer = 0;
  int64_t tokens = 0;
  std::vector<double> load_share;       // [e]: token_counts / (sum of token_counts)
  std::vector<int> never_activated;
  Repetition repetition;
  VocabularySpecialization vocabulary_by_input;
  VocabularySpecialization vocabulary_by_next;
  VocabularySpecialization vocabulary_by_predicted;  // token_ids 0: not profiled
  std::vector<double> coactivation;     // CoAct, E x E (moe/expert_coactivation.hpp)
  std::vector<double> next_layer_probability;  // P(b at next MoE layer | a here), E x E; empty at
  double next_layer_nmi = 0;                   //   the last layer; NMI of the top-1 choices
  std::vector<double> reap_saliency;    // [e] (moe/reap_saliency.hpp)
  ExpertSet esft_set;                   // fewest experts covering esft_share of the gate mass
  CacheCurve cache;                     // hit rate per cache size
};

struct ProfileMetrics {
  double esft_share = 0;
  std::vector<ProfileLayerMetrics> layers;
  std::vector<std::string> domains;                 // in the order of domain_specialization's rows
  std::vector<LayerSpecialization> domain_specialization;  // empty with fewer than one domain
};

// `esft_share`: the p of the ESFT expert sets (e.g. 0.5).
ProfileMetrics profile_metrics(const CorpusProfile& profile, double esft_share);

}  // namespace moe
