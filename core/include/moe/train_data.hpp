#pragma once
// Training data: the multi-domain text corpus (<dir>/<domain>/{train,val}.txt, UTF-8, documents
// separated by a line holding exactly "<|endoftext|>"), a byte-level BPE tokenizer trained on a
// sample of it (cached as a GGUF file holding only tokenizer keys), every domain's text tokenized
// once into a cached binary token file, and deterministic, domain-balanced batches.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "moe/tokenizer.hpp"

namespace moe::train {

inline constexpr std::string_view kDocumentSeparator = "<|endoftext|>";

// Splits text at lines that hold exactly the separator. The newline before a separator line
// belongs to neither document; empty documents are dropped.
std::vector<std::string_view> split_documents(std::string_view text);

// The whole file; throws moe::Error naming it.
std::string read_file(const std::filesystem::path& path);

struct CorpusSpec {
  std::filesystem::path dir;         // holds <domain>/train.txt and <domain>/val.txt
  std::vector<std::string> domains;  // e.g. {"en", "code", "de", ...}

  std::filesystem::path file(const std::string& domain, const std::string& split) const {
    return dir / domain / (split + ".txt");
  }
};

struct TokenizerTrainSpec {
  int vocab_size = 4096;                // bytes + merges + <s>, </s>
  uint64_t sample_bytes = 16ull << 20;  // text sampled for training, split by domain weight
  // A domain's share of the sample relative to the others (missing: 1). More weight gives a
  // language more merges: Russian needs about 3x to reach as many one-token words as English,
  // its letters taking two bytes and its words many forms.
  std::map<std::string, double> domain_weights;
};

// Throws for a weight that is not positive and finite, or one naming none of `domains`.
void check_domain_weights(const std::map<std::string, double>& domain_weights,
                          const std::vector<std::string>& domains);

// Whole documents from evenly spaced places of each domain's train.txt, about
// sample_bytes * weight / (sum of weights) bytes per domain (the same sample for the same files).
// Throws as check_domain_weights does.
std::vector<std::string> sample_documents(const CorpusSpec& corpus, uint64_t sample_bytes,
                                          const std::map<std::string, double>& domain_weights = {});

// Trains the BPE tokenizer (GPT-2 pre-tokenizer, <s> BOS, </s> EOS) on sample_documents, or
// loads it from `cache` when that file was made from the same spec and the same files.
// `log` receives progress lines (may be empty).
Tokenizer load_or_train_tokenizer(const CorpusSpec& corpus, const TokenizerTrainSpec& spec,
                                  const std::filesystem::path& cache,
                                  const std::function<void(const std::string&)>& log = {});

// A stable 64-bit fingerprint of a vocabulary (tokens, types, merges, specials).
uint64_t tokenizer_fingerprint(const Tokenizer& tokenizer);

// Tokens as stored: every document becomes BOS, its tokens, EOS. Vocabularies up to 65536.
using TokenId = uint16_t;

// Tokenizes `text` (documents as split_documents finds them) on `n_threads` threads.
std::vector<TokenId> tokenize_documents(const Tokenizer& tokenizer, std::string_view text,
                                        int n_threads);

// tokenize_documents of `source`, cached in `cache` (reused when the tokenizer fingerprint and
// the source's size and modification time match).
std::vector<TokenId> load_or_tokenize(const Tokenizer& tokenizer,
                                      const std::filesystem::path& source,
                                      const std::filesystem::path& cache, int n_threads,
                                      const std::function<void(const std::string&)>& log = {});

struct DomainTokens {
  std::string name;
  std::vector<TokenId> train;
  std::vector<TokenId> val;
};

// Token streams per domain and the batch sampler.
class TokenCorpus {
public:
  TokenCorpus() = default;
  explicit TokenCorpus(std::vector<DomainTokens> domains);  // throws if a stream is too short

  const std::vector<DomainTokens>& domains() const { return domains_; }

  // The training windows of one step: n_seq sequences of seq_len inputs and the next-token
  // targets. Sequence i of step s (global index g = s · n_seq + i) comes from domain
  // g mod n_domains (domains take equal turns) at an offset drawn from (seed, g) alone, so a
  // batch depends only on (seed, step): the data order is reproducible and resumes exactly.
  void sample_batch(uint64_t seed, int64_t step, int n_seq, int seq_len,
                    std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const;

  // Consecutive windows of a domain's validation stream (at most max_windows), as inputs and
  // targets, the same every time.
  int validation_windows(size_t domain, int seq_len, int max_windows, std::vector<int32_t>& inputs,
                         std::vector<int32_t>& targets) const;

private:
  std::vector<DomainTokens> domains_;
};

// Loads (or builds and caches under cache_dir) the tokenizer and every domain's token streams.
// With `fixed_tokenizer` (a resumed run's), that tokenizer is used instead of the cached or
// trained one, and the token caches are rebuilt if they were made with another.
struct PreparedData {
  Tokenizer tokenizer;
  TokenCorpus corpus;
};
PreparedData prepare_data(const CorpusSpec& corpus, const TokenizerTrainSpec& tokenizer_spec,
                          const std::filesystem::path& cache_dir, int n_threads,
                          const std::function<void(const std::string&)>& log = {},
                          const Tokenizer* fixed_tokenizer = nullptr);

}  // namespace moe::train
