// Live training on the bundled corpus sample (see live_training.hpp).
#include "moe/live_training.hpp"

#include <algorithm>
#include <cmath>

#include "moe/domain_specialization.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"

namespace moe::train {

namespace {

// The bundled corpus's domain order, so that colours and rows match the other views.
constexpr const char* kDomainOrder[] = {"english", "code",    "german", "french",
                                        "spanish", "russian", "maths"};

size_t domain_rank(const std::string& name) {
  const auto* end = std::end(kDomainOrder);
  return static_cast<size_t>(std::find(std::begin(kDomainOrder), end, name) -
                             std::begin(kDomainOrder));
}

std::vector<std::string> find_domains(const std::filesystem::path& sample_dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(sample_dir, error)) {
    throw Error("the training sample folder " + sample_dir.string() +
                " is missing (it ships in assets/train/sample)");
  }
  std::vector<std::string> domains;
  for (const auto& entry : std::filesystem::directory_iterator(sample_dir, error)) {
    if (entry.is_directory() && std::filesystem::is_regular_file(entry.path() / "train.txt"))
      domains.push_back(entry.path().filename().string());
  }
  if (domains.empty())
    throw Error("no <domain>/train.txt in the training sample folder " + sample_dir.string());
  std::sort(domains.begin(), domains.end(), [](const std::string& a, const std::string& b) {
    const size_t ra = domain_rank(a), rb = domain_rank(b);
    return ra != rb ? ra < rb : a < b;
  });
  return domains;
}

}  // namespace

void LiveTrainingKnobs::validate() const {
  if (n_expert < 2 || n_expert > 64)
    throw Error("number of experts must be within [2, 64], got " + std::to_string(n_expert));
  if (top_k < 1 || top_k > n_expert) {
    throw Error("top-k must be within [1, number of experts = " + std::to_string(n_expert) +
                "], got " + std::to_string(top_k));
  }
  if (!(load_balance >= 0) || !std::isfinite(load_balance))
    throw Error("the load-balancing loss weight must be 0 or more");
  if (!(z_loss >= 0) || !std::isfinite(z_loss))
    throw Error("the router z-loss weight must be 0 or more");
  if (!(lr > 0) || lr > 1) throw Error("the learning rate must be within (0, 1]");
}

std::shared_ptr<const LiveTrainingData> load_live_training_data(
    const std::filesystem::path& sample_dir, const std::filesystem::path& tokenizer_model,
    int n_threads) {
  std::vector<std::string> domains = find_domains(sample_dir);
  Tokenizer tokenizer = Tokenizer::from_gguf(gguf::GgufFile::open(tokenizer_model));
  std::vector<DomainTokens> streams;
  int64_t train_tokens = 0, val_tokens = 0;
  for (const std::string& domain : domains) {
    DomainTokens tokens;
    tokens.name = domain;
    tokens.train =
        tokenize_documents(tokenizer, read_file(sample_dir / domain / "train.txt"), n_threads);
    const std::filesystem::path val = sample_dir / domain / "val.txt";
    if (std::filesystem::exists(val))
      tokens.val = tokenize_documents(tokenizer, read_file(val), n_threads);
    train_tokens += static_cast<int64_t>(tokens.train.size());
    val_tokens += static_cast<int64_t>(tokens.val.size());
    streams.push_back(std::move(tokens));
  }
  return std::make_shared<const LiveTrainingData>(
      LiveTrainingData{std::move(tokenizer), TokenCorpus(std::move(streams)), std::move(domains),
                       train_tokens, val_tokens});
}

double mean_top_share(const std::vector<std::vector<int64_t>>& expert_counts) {
  double sum = 0;
  int layers = 0;
  for (const std::vector<int64_t>& counts : expert_counts) {
    int64_t total = 0, top = 0;
    for (int64_t c : counts) {
      total += c;
      top = std::max(top, c);
    }
    if (total == 0) continue;
    sum += static_cast<double>(top) / static_cast<double>(total);
    ++layers;
  }
  return layers > 0 ? sum / layers : 0;
}

LiveTraining::LiveTraining(std::shared_ptr<const LiveTrainingData> data,
                           const LiveTrainingKnobs& knobs, const LiveTrainingShape& shape,
                           int n_threads)
    : data_(std::move(data)), knobs_(knobs), shape_(shape) {
  if (!data_) throw Error("live training needs its data");
  knobs_.validate();
  TrainerConfig config;
  ModelShape& model = config.model;
  model.n_vocab = data_->tokenizer.n_vocab();
  model.n_ctx = shape_.seq_len;
  model.n_embd = shape_.n_embd;
  model.n_layer = shape_.n_layer;
  model.n_head = shape_.n_head;
  model.n_head_kv = shape_.n_head_kv;
  model.n_ff_exp = shape_.n_ff_exp;
  model.n_expert = knobs_.n_expert;
  model.top_k = knobs_.top_k;
  model.tied_output = true;
  config.optimizer.lr = knobs_.lr;
  config.optimizer.warmup_steps = shape_.warmup_steps;
  config.optimizer.min_lr_ratio = 1.0;  // no decay: a live run has no planned end
  config.optimizer.total_steps = 1'000'000;
  config.loss.load_balance = knobs_.load_balance;
  config.loss.z_loss = knobs_.z_loss;
  config.seq_len = shape_.seq_len;
  config.batch_seqs = shape_.batch_seqs;
  config.micro_batch_seqs = shape_.batch_seqs;
  config.seed = knobs_.seed;
  config.n_threads = n_threads;
  trainer_ = std::make_unique<Trainer>(config, data_->corpus);
}

const LiveStep& LiveTraining::step() {
  if (steps_.empty() && specializations_.empty()) measure_specialization();  // the start
  const StepStats stats = trainer_->step();
  LiveStep live;
  live.step = stats.step;
  live.tokens = trainer_->tokens_seen();
  live.loss = stats.loss;
  live.load_balance = stats.load_balance;
  live.z_loss = stats.z_loss;
  live.load_cv = stats.expert_load_cv;
  live.top_share = mean_top_share(stats.expert_counts);
  live.expert_counts = stats.expert_counts;
  live.seconds = stats.seconds;
  steps_.push_back(std::move(live));
  if (shape_.specialization_every > 0 && stats.step % shape_.specialization_every == 0)
    measure_specialization();
  return steps_.back();
}

const LiveSpecialization& LiveTraining::measure_specialization() {
  const ModelShape& model = trainer_->config().model;
  const size_t n_domains = data_->domains.size();
  LiveSpecialization result;
  result.step = trainer_->steps_done();
  result.top1.assign(static_cast<size_t>(model.n_layer),
                     std::vector<std::vector<long long>>(
                         n_domains, std::vector<long long>(static_cast<size_t>(model.n_expert))));
  std::vector<int32_t> inputs, targets;
  for (size_t domain = 0; domain < n_domains; ++domain) {
    const int n = data_->corpus.validation_windows(domain, shape_.seq_len,
                                                   shape_.specialization_windows, inputs, targets);
    if (n == 0) continue;
    const std::vector<std::vector<int32_t>> top1 =
        trainer_->top1_experts(inputs, n, shape_.seq_len);
    for (size_t layer = 0; layer < top1.size(); ++layer) {
      for (int32_t expert : top1[layer]) ++result.top1[layer][domain][static_cast<size_t>(expert)];
    }
  }
  for (const auto& counts : result.top1) result.mi_bits.push_back(mutual_information_bits(counts));
  specializations_.push_back(std::move(result));
  return specializations_.back();
}

void LiveTraining::export_gguf(const std::filesystem::path& path) const {
  ExportOptions options;
  options.name = "moescope-live-" + std::to_string(knobs_.n_expert) + "x-top" +
                 std::to_string(knobs_.top_k) + "-step" + std::to_string(steps_done());
  options.description =
      "A tiny MoE trained live in moescope's Train tab on the bundled corpus "
      "sample (load-balancing weight " +
      std::to_string(knobs_.load_balance) + ", seed " + std::to_string(knobs_.seed) + ").";
  options.weight_type = GgmlType::F32;
  trainer_->export_gguf(path, data_->tokenizer.vocab(), options);
}

}  // namespace moe::train
