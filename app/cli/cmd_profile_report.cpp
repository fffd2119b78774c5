// `moescope-cli profile-report P.moeprofile [--esft-share P] [--json]`: every routing metric of
// a corpus profile (docs/moeprofile.md says how each is defined and where it comes from).
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_profile_metrics.hpp"

namespace moescope::cli {

namespace {

struct ProfileReportArgs {
  std::string profile_path;
  double esft_share = 0.5;
  bool as_json = false;
};

nlohmann::json layer_json(const moe::ProfileLayerMetrics& layer) {
  return {{"layer", layer.layer},
          {"tokens", layer.tokens},
          {"load_share", layer.load_share},
          {"never_activated", layer.never_activated},
          {"repetition",
           {{"pairs", layer.repetition.pairs},
            {"same_top1", layer.repetition.same_top1},
            {"sets_intersect", layer.repetition.sets_intersect},
            {"random_same_top1", layer.repetition.random_same_top1},
            {"random_sets_intersect", layer.repetition.random_sets_intersect}}},
          {"vocabulary_specialization",
           {{"by_input", {{"mean_share", layer.vocabulary_by_input.mean_share},
                          {"token_ids", layer.vocabulary_by_input.token_ids}}},
            {"by_next", {{"mean_share", layer.vocabulary_by_next.mean_share},
                         {"token_ids", layer.vocabulary_by_next.token_ids}}},
            {"by_predicted", {{"mean_share", layer.vocabulary_by_predicted.mean_share},
                              {"token_ids", layer.vocabulary_by_predicted.token_ids}}}}},
          {"coactivation", layer.coactivation},
          {"next_layer_probability", layer.next_layer_probability},
          {"next_layer_nmi", layer.next_layer_nmi},
          {"reap_saliency", layer.reap_saliency},
          {"esft_set", {{"experts", layer.esft_set.experts}, {"covered", layer.esft_set.covered}}},
          {"cache", {{"sizes", layer.cache.sizes},
                     {"lru_hit_rate", layer.cache.lru},
                     {"belady_hit_rate", layer.cache.belady}}}};
}

std::string percent_list(const std::vector<double>& values) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(0);
  for (size_t i = 0; i < values.size(); ++i) out << (i ? " " : "") << 100 * values[i];
  return out.str();
}

void print_text(const moe::CorpusProfile& profile, const moe::ProfileMetrics& metrics) {
  const int k = profile.model.top_k, e = profile.model.n_expert;
  std::cout << std::fixed << "Profile of " << profile.model.name << " (" << profile.model.architecture
            << ", " << e << " experts, top-" << k << ") over " << profile.source << ": "
            << profile.documents << " documents, " << profile.tokens << " tokens.\n"
            << "Uniform routing would give: domain/vocabulary share k/E = " << std::setprecision(3)
            << static_cast<double>(k) / e << ", P(same top-1) 1/E = " << 1.0 / e << ".\n";
  for (const moe::ProfileLayerMetrics& layer : metrics.layers) {
    std::cout << "\nLayer " << layer.layer << " (" << layer.tokens << " tokens)\n"
              << "  load share (%):          " << percent_list(layer.load_share) << "\n"
              << "  never activated:         ";
    for (int expert : layer.never_activated) std::cout << "e" << expert << " ";
    std::cout << (layer.never_activated.empty() ? "none" : "") << "\n"
              << std::setprecision(3) << "  consecutive repetition:  same top-1 "
              << layer.repetition.same_top1 << " (random " << layer.repetition.random_same_top1
              << "), top-k sets meet " << layer.repetition.sets_intersect << " (random "
              << layer.repetition.random_sets_intersect << ") over " << layer.repetition.pairs
              << " pairs\n"
              << "  vocabulary specialization: by input token " << layer.vocabulary_by_input.mean_share
              << " (" << layer.vocabulary_by_input.token_ids << " ids), by next token "
              << layer.vocabulary_by_next.mean_share << " (" << layer.vocabulary_by_next.token_ids
              << " ids), by predicted next token " << layer.vocabulary_by_predicted.mean_share << " ("
              << layer.vocabulary_by_predicted.token_ids << " ids)\n";
    if (!layer.next_layer_probability.empty()) {
      double diagonal = 0;
      for (int a = 0; a < e; ++a) diagonal += layer.next_layer_probability[static_cast<size_t>(a * e + a)];
      std::cout << "  next layer:              NMI of top-1 " << layer.next_layer_nmi
                << ", mean P(same expert id next layer) " << diagonal / e << "\n";
    }
    double max_coact = 0;
    int max_a = 0, max_b = 0;
    for (int a = 0; a < e; ++a) {
      for (int b = 0; b < e; ++b) {
        if (layer.coactivation[static_cast<size_t>(a * e + b)] > max_coact) {
          max_coact = layer.coactivation[static_cast<size_t>(a * e + b)];
          max_a = a;
          max_b = b;
        }
      }
    }
    std::cout << "  co-activation:           highest CoAct(e" << max_a << ", e" << max_b
              << ") = " << max_coact << "\n  REAP saliency:           ";
    for (double s : layer.reap_saliency) std::cout << s << " ";
    std::cout << "\n  ESFT set (" << std::setprecision(0) << 100 * metrics.esft_share
              << "% of gate mass): ";
    for (int expert : layer.esft_set.experts) std::cout << "e" << expert << " ";
    std::cout << std::setprecision(1) << "(" << 100 * layer.esft_set.covered << "%)\n"
              << "  cache hit rate (%), c = 1.." << layer.cache.sizes.size() << ": LRU "
              << percent_list(layer.cache.lru) << "; Belady " << percent_list(layer.cache.belady)
              << "\n";
  }
  if (!metrics.domain_specialization.empty()) {
    std::cout << "\nDomain specialization N(e in top-k, D) / N(D) (%), baseline k/E = "
              << std::setprecision(0) << 100.0 * k / e << "%:\n";
    for (const moe::LayerSpecialization& layer : metrics.domain_specialization) {
      std::cout << "Layer " << layer.layer << ", I(domain; top-1) = " << std::setprecision(3)
                << layer.mi_bits << " bits\n";
      for (size_t d = 0; d < metrics.domains.size(); ++d) {
        std::cout << "  " << std::setw(10) << std::left
                  << (metrics.domains[d].empty() ? "(none)" : metrics.domains[d]) << std::right
                  << " " << percent_list(layer.token_share[d]) << "\n";
      }
    }
  }
}

void run_profile_report(const ProfileReportArgs& args) {
  const moe::CorpusProfile profile = moe::read_corpus_profile(args.profile_path);
  const moe::ProfileMetrics metrics = moe::profile_metrics(profile, args.esft_share);
  if (!args.as_json) {
    print_text(profile, metrics);
    return;
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const moe::ProfileLayerMetrics& layer : metrics.layers) layers.push_back(layer_json(layer));
  nlohmann::json domains = nlohmann::json::array();
  for (const moe::LayerSpecialization& layer : metrics.domain_specialization) {
    nlohmann::json share = nlohmann::json::object();
    for (size_t d = 0; d < metrics.domains.size(); ++d) share[metrics.domains[d]] = layer.token_share[d];
    domains.push_back({{"layer", layer.layer}, {"mi_bits", layer.mi_bits}, {"token_share", share}});
  }
  std::cout << dump_json({{"model", {{"name", profile.model.name},
                                     {"architecture", profile.model.architecture},
                                     {"n_expert", profile.model.n_expert},
                                     {"top_k", profile.model.top_k}}},
                          {"source", profile.source},
                          {"documents", profile.documents},
                          {"tokens", profile.tokens},
                          {"esft_share", metrics.esft_share},
                          {"layers", layers},
                          {"domain_specialization", domains}})
            << "\n";
}

}  // namespace

void register_profile_report(CLI::App& app) {
  auto args = std::make_shared<ProfileReportArgs>();
  auto* command = app.add_subcommand("profile-report", "Every routing metric of a .moeprofile");
  command->add_option("profile", args->profile_path, "The profile (.moeprofile)")->required();
  command->add_option("--esft-share", args->esft_share,
                      "ESFT expert sets: the share p of the gate mass to cover (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_flag("--json", args->as_json, "Print JSON");
  command->callback([args] { run_profile_report(*args); });
}

}  // namespace moescope::cli
