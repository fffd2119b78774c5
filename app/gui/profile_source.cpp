#include "profile_source.hpp"

#include <atomic>

#include "moe/corpus_profile_file.hpp"
#include "moe/error.hpp"
#include "moe/human_units.hpp"
#include "moe/profile_stats.hpp"

namespace moescope::gui {

namespace {

// Set on the snapshots drawn from a profile, so that their versions (the key of every figure a
// view caches) never equal a prompt's.
constexpr uint64_t kProfileVersionBit = uint64_t{1} << 63;

std::atomic<uint64_t> next_serial{1};

std::string layer_list(const std::vector<int>& layers) {
  std::string text;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(layers[i]);  // appended: "," + ... gives GCC 12 a false -Wrestrict
  }
  return text;
}

std::string shape_of(int n_expert, int top_k, const std::vector<int>& moe_layers) {
  return std::to_string(n_expert) + " experts, top-" + std::to_string(top_k) + ", MoE layers " +
         layer_list(moe_layers);
}

std::string source_name(const ProfileSource& source) {
  const std::string& named = source.profile.source;
  return named.empty() ? std::filesystem::path(source.path).filename().string() : named;
}

}  // namespace

bool is_profile_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  const std::string extension = kProfileExtension;
  return name.size() > extension.size() &&
         name.compare(name.size() - extension.size(), extension.size(), extension) == 0;
}

std::shared_ptr<const ProfileSource> read_profile_source(const std::filesystem::path& path) {
  auto source = std::make_shared<ProfileSource>();
  source->path = path.string();
  source->serial = next_serial++;
  source->profile = moe::read_corpus_profile(path);
  const moe::CorpusProfile& profile = source->profile;
  if (profile.layers.empty()) throw moe::Error(path.string() + ": the profile has no MoE layer");
  try {  // the shape profile_snapshot gives its views
    moe::RoutingTrace(profile.model.n_layer, profile.model.n_expert, profile.model.top_k,
                      profile.model.moe_layers);
  } catch (const std::exception& error) {
    throw moe::Error(path.string() + ": " + error.what());
  }
  source->stats = moe::pooled_stats(profile);
  moe::ProfileDomains domains = moe::profile_domains(profile);
  if (!domains.names.empty()) {
    auto result = std::make_shared<DomainResult>();
    result->domains = std::move(domains.names);
    result->stats = std::move(domains.stats);
    result->specialization = std::move(domains.specialization);
    result->top_k = profile.model.top_k;
    for (const auto& [label, counts] : profile.domains)
      if (!label.empty()) result->n_tokens += counts.tokens;
    source->domains = std::move(result);
  }
  return source;
}

std::string profile_summary(const ProfileSource& source) {
  const moe::CorpusProfile& profile = source.profile;
  const moe::ProfileModel& model = profile.model;
  return "Profile: " + source_name(source) + ", " + moe::human_count(double(profile.documents)) +
         " documents, " + moe::human_count(double(profile.tokens)) + " tokens (model " +
         (model.name.empty() ? std::string("unnamed") : model.name) + ", " +
         std::to_string(model.n_expert) + " experts, top-" + std::to_string(model.top_k) + ")";
}

std::string profile_has_no_tokens(const ProfileSource& source) {
  return "A corpus profile holds pooled counts of " +
         moe::human_count(double(source.profile.tokens)) + " tokens of " + source_name(source) +
         ": no per-token routing and no router scores.";
}

std::string profile_note(const ProfileSource& source) {
  return "corpus profile " + source_name(source) + ": " +
         moe::human_count(double(source.profile.documents)) + " documents, " +
         moe::human_count(double(source.profile.tokens)) + " tokens";
}

moe::plot::Figure with_profile_note(moe::plot::Figure figure, const Snapshot& snapshot) {
  if (snapshot.profile) figure.notes.insert(figure.notes.begin(), profile_note(*snapshot.profile));
  return figure;
}

std::string profile_model_mismatch(const moe::ProfileModel& profile, const ModelInfo* model) {
  if (!model) return {};
  const moe::ModelConfig& config = model->config;
  const std::vector<int> moe_layers = config.moe_layers();
  if (config.n_expert == profile.n_expert && config.n_expert_used == profile.top_k &&
      moe_layers == profile.moe_layers)
    return {};
  return "The profile was made with a model of another shape (" +
         shape_of(profile.n_expert, profile.top_k, profile.moe_layers) + ") than the open " +
         model->name + " (" + shape_of(config.n_expert, config.n_expert_used, moe_layers) +
         "): the profile's views show its own model, and it cannot rank this model's experts.";
}

std::shared_ptr<const Snapshot> profile_snapshot(std::shared_ptr<const ProfileSource> source,
                                                 const Snapshot& live) {
  auto snapshot = std::make_shared<Snapshot>();
  const moe::ProfileModel& model = source->profile.model;
  snapshot->version = kProfileVersionBit | source->serial;
  snapshot->model_generation = live.model_generation;
  snapshot->model = live.model;
  snapshot->trace = moe::RoutingTrace(model.n_layer, model.n_expert, model.top_k, model.moe_layers);
  snapshot->stats = source->stats;
  if (source->domains) {
    auto domains = std::make_shared<DomainResult>(*source->domains);
    domains->model_generation = live.model_generation;  // current on whichever model is open
    snapshot->domains = std::move(domains);
  }
  snapshot->profile = std::move(source);
  return snapshot;
}

}  // namespace moescope::gui
