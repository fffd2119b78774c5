// The training loop end to end on a tiny generated corpus: data preparation (BPE tokenizer,
// token caches, balanced deterministic batches), falling loss, checkpoint → resume continuing
// bit-identically, and export → moe::Model::load → Session giving the trainer's own logits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "moe/cpu_backend.hpp"
#include "moe/model.hpp"
#include "moe/session.hpp"
#include "moe/train_loop.hpp"

namespace moe::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("moescope_" + name + "_" +
                        std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                        std::to_string(std::random_device{}()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Two small domains with learnable regularities: English-like sentences and code-like lines.
std::string english_documents(int count, uint64_t seed) {
  const char* subjects[] = {"the cat", "a dog", "the teacher", "my friend", "the bird"};
  const char* verbs[] = {"sees", "likes", "finds", "draws", "follows"};
  const char* objects[] = {"the red ball", "a small house", "the old tree", "a blue boat"};
  std::mt19937_64 rng(seed);
  std::string text;
  for (int d = 0; d < count; ++d) {
    for (int s = 0; s < 4; ++s) {
      text += std::string(subjects[rng() % 5]) + " " + verbs[rng() % 5] + " " + objects[rng() % 4] +
              ". ";
    }
    text += "\n<|endoftext|>\n";
  }
  return text;
}

std::string code_documents(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text;
  for (int d = 0; d < count; ++d) {
    const int n = static_cast<int>(rng() % 9) + 1;
    text += "def f" + std::to_string(d % 7) + "(x):\n    return x * " + std::to_string(n) + " + " +
            std::to_string(n + 1) + "\n\nfor i in range(" + std::to_string(n) +
            "):\n    print(i)\n";
    text += "<|endoftext|>\n";
  }
  return text;
}

class TrainLoop : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fresh_dir("train_loop"));
    write_text(*dir_ / "corpus/en/train.txt", english_documents(300, 1));
    write_text(*dir_ / "corpus/en/val.txt", english_documents(30, 2));
    write_text(*dir_ / "corpus/code/train.txt", code_documents(300, 3));
    write_text(*dir_ / "corpus/code/val.txt", code_documents(30, 4));
    CorpusSpec spec{*dir_ / "corpus", {"en", "code"}};
    data_ =
        new PreparedData(prepare_data(spec, TokenizerTrainSpec{320, 1 << 20, {}}, *dir_ / "cache", 2));
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static TrainerConfig micro_config() {
    TrainerConfig config;
    ModelShape& m = config.model;
    m.n_vocab = data_->tokenizer.n_vocab();
    m.n_ctx = 32;
    m.n_embd = 32;
    m.n_layer = 2;
    m.n_head = 4;
    m.n_head_kv = 2;
    m.n_ff_exp = 32;
    m.n_expert = 4;
    m.top_k = 2;
    m.tied_output = true;
    config.seq_len = 32;
    config.batch_seqs = 8;
    config.micro_batch_seqs = 3;  // uneven micro-batches on purpose
    config.optimizer.lr = 1e-2;
    config.optimizer.warmup_steps = 5;
    config.optimizer.total_steps = 40;
    config.optimizer.weight_decay = 0.01;
    config.loss = {0.01, 0.001};
    config.seed = 7;
    config.n_threads = 2;
    return config;
  }

  static fs::path* dir_;
  static PreparedData* data_;
};

fs::path* TrainLoop::dir_ = nullptr;
PreparedData* TrainLoop::data_ = nullptr;

TEST_F(TrainLoop, DataIsTokenizedCachedAndBalanced) {
  const Tokenizer& tokenizer = data_->tokenizer;
  EXPECT_GT(tokenizer.n_vocab(), 258);
  EXPECT_LE(tokenizer.n_vocab(), 320);
  ASSERT_TRUE(tokenizer.bos_id() && tokenizer.eos_id());
  const TokenCorpus& corpus = data_->corpus;
  ASSERT_EQ(corpus.domains().size(), 2u);
  // Every document is <s> … </s>, and the text round-trips.
  const std::vector<TokenId>& en = corpus.domains()[0].train;
  EXPECT_EQ(en.front(), *tokenizer.bos_id());
  EXPECT_EQ(en.back(), *tokenizer.eos_id());
  std::vector<int32_t> first_doc;
  for (size_t i = 1; en[i] != *tokenizer.eos_id(); ++i) first_doc.push_back(en[i]);
  EXPECT_EQ(tokenizer.decode(first_doc), split_documents(english_documents(300, 1)).front());

  // Cached: a second preparation reads the same tokens back.
  CorpusSpec spec{*dir_ / "corpus", {"en", "code"}};
  std::vector<std::string> lines;
  const PreparedData again =
      prepare_data(spec, TokenizerTrainSpec{320, 1 << 20, {}}, *dir_ / "cache", 1,
                   [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(again.corpus.domains()[1].train, corpus.domains()[1].train);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("from cache"), std::string::npos) << lines.front();

  // Batches: a function of (seed, step); the windows alternate between the domains.
  std::vector<int32_t> inputs_a, targets_a, inputs_b, targets_b;
  corpus.sample_batch(3, 10, 4, 16, inputs_a, targets_a);
  corpus.sample_batch(3, 10, 4, 16, inputs_b, targets_b);
  EXPECT_EQ(inputs_a, inputs_b);
  for (size_t i = 0; i + 1 < inputs_a.size(); ++i) {
    if ((i + 1) % 16 != 0) {
      EXPECT_EQ(targets_a[i], inputs_a[i + 1]);
    }
  }
  corpus.sample_batch(3, 11, 4, 16, inputs_b, targets_b);
  EXPECT_NE(inputs_a, inputs_b);
  const std::string code_window = tokenizer.decode(std::span(inputs_a).subspan(16, 16));
  const std::string en_window = tokenizer.decode(std::span(inputs_a).subspan(0, 16));
  EXPECT_TRUE(code_window.find("(") != std::string::npos ||
              code_window.find(":") != std::string::npos)
      << code_window;
  EXPECT_EQ(en_window.find("return"), std::string::npos) << en_window;
}

TEST(TrainData, SplitDocuments) {
  const auto docs = split_documents(
      "one\ntwo\n<|endoftext|>\nthree\n<|endoftext|>\n<|endoftext|>\nfour <|endoftext|>\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0], "one\ntwo");
  EXPECT_EQ(docs[1], "three");
  EXPECT_EQ(docs[2], "four <|endoftext|>");  // the separator must be a whole line
}

TEST_F(TrainLoop, LossFalls) {
  Trainer trainer(micro_config(), data_->corpus);
  std::vector<double> losses;
  for (int step = 0; step < 40; ++step) {
    const StepStats stats = trainer.step();
    ASSERT_TRUE(std::isfinite(stats.total));
    losses.push_back(stats.loss);
    EXPECT_EQ(stats.step, step + 1);
    EXPECT_EQ(stats.tokens, 8 * 32);
    int64_t assigned = 0;
    for (const auto& layer : stats.expert_counts) {
      for (int64_t count : layer) assigned += count;
    }
    EXPECT_EQ(assigned, 2 * 8 * 32 * 2);  // layers · tokens · top_k
  }
  const double first = losses.front();
  const double last = (losses[35] + losses[36] + losses[37] + losses[38] + losses[39]) / 5;
  EXPECT_NEAR(first, std::log(static_cast<double>(data_->tokenizer.n_vocab())), 1.0);
  EXPECT_LT(last, first - 2.0) << "first " << first << ", last five " << last;
  const double val_en = trainer.evaluate(0, 8), val_code = trainer.evaluate(1, 8);
  EXPECT_LT(val_en, first - 1.5);
  EXPECT_LT(val_code, first - 1.5);
  EXPECT_EQ(trainer.tokens_seen(), 40 * 8 * 32);
}

TEST_F(TrainLoop, ResumeFromCheckpointIsBitIdentical) {
  const TrainerConfig config = micro_config();
  Trainer straight(config, data_->corpus);
  std::vector<double> straight_losses;
  for (int step = 0; step < 8; ++step) straight_losses.push_back(straight.step().total);

  const fs::path checkpoint = *dir_ / "checkpoints" / "ckpt.gguf";
  {
    Trainer first_half(config, data_->corpus);
    for (int step = 0; step < 4; ++step) first_half.step();
    first_half.save_checkpoint(checkpoint, &data_->tokenizer);
  }
  const std::optional<TokenizerVocab> stored = load_checkpoint_tokenizer(checkpoint);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->tokens, data_->tokenizer.vocab().tokens);
  EXPECT_EQ(stored->merges, data_->tokenizer.vocab().merges);
  TrainerConfig other_seed = config;
  other_seed.seed = 99;  // the checkpoint's seed wins
  Trainer resumed(other_seed, data_->corpus);
  resumed.load_checkpoint(checkpoint);
  EXPECT_EQ(resumed.steps_done(), 4);
  EXPECT_EQ(resumed.tokens_seen(), 4 * 8 * 32);
  for (int step = 4; step < 8; ++step) {
    EXPECT_EQ(resumed.step().total, straight_losses[static_cast<size_t>(step)]) << "step " << step;
  }
  ASSERT_EQ(resumed.params().size(), straight.params().size());
  EXPECT_EQ(std::memcmp(resumed.params().data(), straight.params().data(),
                        straight.params().size() * sizeof(float)),
            0);

  TrainerConfig wider = config;
  wider.model.n_embd = 64;
  Trainer mismatched(wider, data_->corpus);
  EXPECT_THROW(mismatched.load_checkpoint(checkpoint), std::runtime_error);
  EXPECT_THROW(Trainer(config, data_->corpus).load_checkpoint(*dir_ / "missing.gguf"),
               std::runtime_error);
}

double max_abs(std::span<const float> values) {
  double m = 0;
  for (float v : values) m = std::max(m, static_cast<double>(std::abs(v)));
  return m;
}

TEST_F(TrainLoop, ExportedModelGivesTheTrainersLogits) {
  TrainerConfig config = micro_config();
  for (bool tied : {true, false}) {
    config.model.tied_output = tied;
    Trainer trainer(config, data_->corpus);
    for (int step = 0; step < 10; ++step) trainer.step();  // trained weights, real routing
    const fs::path path = *dir_ / (std::string("export_") + (tied ? "tied" : "untied") + ".gguf");
    trainer.export_gguf(path, data_->tokenizer.vocab(),
                        ExportOptions{"micro", "test model", GgmlType::F32});

    const std::shared_ptr<const Model> model = Model::load(path);
    EXPECT_EQ(model->config().n_expert, 4);
    EXPECT_EQ(model->config().n_expert_used, 2);
    EXPECT_EQ(model->output_tied(), tied);
    EXPECT_EQ(model->file().get_string("general.name"), "micro");
    const Tokenizer tokenizer = Tokenizer::from_gguf(model->file());
    EXPECT_EQ(tokenizer.n_vocab(), data_->tokenizer.n_vocab());

    const std::vector<int32_t> prompt = tokenizer.encode("the cat likes a small house. def f3(x):");
    ASSERT_GE(prompt.size(), 8u);
    ASSERT_LE(prompt.size(), 32u);
    const std::vector<float> expected = trainer.logits(prompt);  // every position
    const size_t n_vocab = static_cast<size_t>(config.model.n_vocab);

    auto backend = std::make_shared<CpuBackend>(CpuBackendOptions{2});
    Session session(model, backend, SessionOptions{32, true, 256});
    session.set_tokens(prompt);
    const std::span<const float> last = session.last_logits();
    ASSERT_EQ(last.size(), n_vocab);
    const std::span<const float> expected_last(expected.data() + (prompt.size() - 1) * n_vocab,
                                               n_vocab);
    const double scale = max_abs(expected_last);
    for (size_t v = 0; v < n_vocab; ++v) {
      ASSERT_NEAR(last[v], expected_last[v], 1e-4 * scale)
          << "token " << v << (tied ? " (tied)" : " (untied)");
    }

    // Every position, straight from the backend.
    auto state = backend->new_state(model, 32);
    std::vector<float> all;
    backend->forward(*state, prompt, 0, LogitsMode::All, all, nullptr);
    ASSERT_EQ(all.size(), expected.size());
    double worst = 0;
    for (size_t i = 0; i < all.size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(all[i] - expected[i])));
    EXPECT_LE(worst, 1e-4 * max_abs(expected));
  }
}

TEST_F(TrainLoop, CompactExportsLoad) {
  Trainer trainer(micro_config(), data_->corpus);
  for (int step = 0; step < 5; ++step) trainer.step();
  const std::vector<int32_t> prompt = data_->tokenizer.encode("a dog sees the old tree.");
  const std::vector<float> expected = trainer.logits(prompt);
  const size_t n_vocab = static_cast<size_t>(trainer.config().model.n_vocab);
  const std::span<const float> expected_last(expected.data() + (prompt.size() - 1) * n_vocab,
                                             n_vocab);
  for (GgmlType type : {GgmlType::F16, GgmlType::Q8_0}) {
    const fs::path path = *dir_ / ("export_" + type_name(type) + ".gguf");
    trainer.export_gguf(path, data_->tokenizer.vocab(), ExportOptions{"micro", "", type});
    const std::shared_ptr<const Model> model = Model::load(path);
    EXPECT_EQ(model->token_embd().type, type);
    EXPECT_EQ(model->layer(0).ffn_gate_inp->type, GgmlType::F32);  // router kept exact
    EXPECT_EQ(model->layer(1).ffn_norm->type, GgmlType::F32);
    Session session(model, std::make_shared<CpuBackend>(CpuBackendOptions{1}),
                    SessionOptions{32, false, 256});
    session.set_tokens(prompt);
    double worst = 0;
    for (size_t v = 0; v < n_vocab; ++v)
      worst = std::max(worst,
                       static_cast<double>(std::abs(session.last_logits()[v] - expected_last[v])));
    EXPECT_LE(worst, 0.05 * max_abs(expected_last)) << type_name(type);  // rounding of the weights
  }
}

}  // namespace
}  // namespace moe::train
