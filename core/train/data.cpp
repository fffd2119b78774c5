// Corpus reading, the cached BPE tokenizer, cached token streams and the batch sampler.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "moe/bpe_trainer.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/train_data.hpp"
#include "moe/train_ops.hpp"

namespace moe::train {

namespace fs = std::filesystem;

namespace {

void say(const std::function<void(const std::string&)>& log, const std::string& line) {
  if (log) log(line);
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class Fnv1a {
public:
  void add(std::string_view bytes) {
    for (unsigned char c : bytes) hash_ = (hash_ ^ c) * 0x100000001B3ull;
  }
  void add_u64(uint64_t value) {
    char bytes[8];
    std::memcpy(bytes, &value, 8);
    add(std::string_view(bytes, 8));
  }
  uint64_t value() const { return hash_; }

private:
  uint64_t hash_ = 0xCBF29CE484222325ull;
};

// "size:mtime" of a file, to notice when a cached result is stale.
std::string file_stamp(const fs::path& path) {
  std::error_code error;
  const uint64_t size = fs::file_size(path, error);
  if (error) throw Error("cannot read " + path.string() + ": " + error.message());
  const auto mtime = fs::last_write_time(path, error).time_since_epoch().count();
  return std::to_string(size) + ":" + std::to_string(mtime);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << value;
  return out.str();
}

}  // namespace

std::vector<std::string_view> split_documents(std::string_view text) {
  std::vector<std::string_view> documents;
  const auto add = [&](size_t begin, size_t end) {
    if (end > begin && text[end - 1] == '\n') --end;  // the newline before the separator line
    if (end > begin) documents.push_back(text.substr(begin, end - begin));
  };
  size_t doc_begin = 0, pos = 0;
  while (pos < text.size()) {
    size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view line = text.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == kDocumentSeparator) {
      add(doc_begin, pos);
      doc_begin = std::min(line_end + 1, text.size());
    }
    pos = line_end + 1;
  }
  if (doc_begin < text.size()) add(doc_begin, text.size());
  return documents;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read " + path.string());
  return bytes;
}

void check_domain_weights(const std::map<std::string, double>& domain_weights,
                          const std::vector<std::string>& domains) {
  for (const auto& [domain, weight] : domain_weights) {
    if (std::find(domains.begin(), domains.end(), domain) == domains.end())
      throw Error("tokenizer weight for \"" + domain + "\", which is not a domain of the corpus");
    if (!std::isfinite(weight) || weight <= 0)
      throw Error("tokenizer weight for \"" + domain + "\" must be a positive number");
  }
}

std::vector<std::string> sample_documents(const CorpusSpec& corpus, uint64_t sample_bytes,
                                          const std::map<std::string, double>& domain_weights) {
  if (corpus.domains.empty()) throw Error("the corpus has no domains");
  check_domain_weights(domain_weights, corpus.domains);
  const auto weight_of = [&](const std::string& domain) {
    const auto found = domain_weights.find(domain);
    return found == domain_weights.end() ? 1.0 : found->second;
  };
  double weight_sum = 0;
  for (const std::string& domain : corpus.domains) weight_sum += weight_of(domain);
  constexpr size_t kMaxDocumentBytes = 64 * 1024;  // one huge file must not fill the sample
  std::vector<std::string> sample;
  for (const std::string& domain : corpus.domains) {
    const uint64_t budget = std::max<uint64_t>(
        1, static_cast<uint64_t>(static_cast<double>(sample_bytes) * weight_of(domain) / weight_sum));
    const std::string text = read_file(corpus.file(domain, "train"));
    const std::vector<std::string_view> documents = split_documents(text);
    if (documents.empty()) continue;
    uint64_t total = 0;
    for (std::string_view d : documents) total += std::min(d.size(), kMaxDocumentBytes);
    const double average = static_cast<double>(total) / static_cast<double>(documents.size());
    const size_t wanted =
        std::min(documents.size(), static_cast<size_t>(static_cast<double>(budget) / average) + 1);
    uint64_t taken = 0;
    for (size_t k = 0; k < wanted && taken < budget; ++k) {
      const std::string_view d = documents[k * documents.size() / wanted];  // evenly spaced
      const std::string_view piece = d.substr(0, kMaxDocumentBytes);
      sample.emplace_back(piece);
      taken += piece.size();
    }
  }
  return sample;
}

uint64_t tokenizer_fingerprint(const Tokenizer& tokenizer) {
  const TokenizerVocab& vocab = tokenizer.vocab();
  Fnv1a hash;
  hash.add(vocab.model);
  hash.add_u64(0);
  hash.add(vocab.pre);
  for (const std::string& token : vocab.tokens) {
    hash.add(token);
    hash.add_u64(1);
  }
  for (TokenType type : vocab.types) hash.add_u64(static_cast<uint64_t>(type));
  for (const std::string& merge : vocab.merges) {
    hash.add(merge);
    hash.add_u64(2);
  }
  hash.add_u64(static_cast<uint64_t>(vocab.bos.value_or(-1)));
  hash.add_u64(static_cast<uint64_t>(vocab.eos.value_or(-1)));
  return hash.value();
}

Tokenizer load_or_train_tokenizer(const CorpusSpec& corpus, const TokenizerTrainSpec& spec,
                                  const fs::path& cache,
                                  const std::function<void(const std::string&)>& log) {
  // What the cached tokenizer was made from: the spec and the training files' stamps.
  std::string recipe =
      "vocab=" + std::to_string(spec.vocab_size) + ";sample=" + std::to_string(spec.sample_bytes);
  for (const auto& [domain, weight] : spec.domain_weights) {
    recipe += ";weight:" + domain + "=" + std::to_string(weight);
  }
  for (const std::string& domain : corpus.domains) {
    recipe += ";" + domain + "=" + file_stamp(corpus.file(domain, "train"));
  }
  constexpr const char* kRecipeKey = "moescope.tokenizer.recipe";
  if (fs::exists(cache)) {
    try {
      const gguf::GgufFile file = gguf::GgufFile::open(cache);
      if (file.get_string_or(kRecipeKey, "") == recipe) {
        Tokenizer tokenizer = Tokenizer::from_gguf(file);
        say(log, "tokenizer: " + std::to_string(tokenizer.n_vocab()) + " tokens from cache " +
                     cache.string());
        return tokenizer;
      }
      say(log, "tokenizer: cache " + cache.string() + " was made from other data; retraining");
    } catch (const Error& error) {
      say(log, std::string("tokenizer: ignoring unreadable cache (") + error.what() + ")");
    }
  }

  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> documents = sample_documents(corpus, spec.sample_bytes, spec.domain_weights);
  uint64_t bytes = 0;
  for (const std::string& d : documents) bytes += d.size();
  say(log, "tokenizer: training BPE (vocab " + std::to_string(spec.vocab_size) + ") on " +
               std::to_string(documents.size()) + " documents, " +
               fixed(static_cast<double>(bytes) / 1e6, 1) + " MB");
  BpeTrainerOptions options;
  options.vocab_size = static_cast<size_t>(spec.vocab_size);
  options.pre = "gpt-2";
  options.special_tokens = {"<s>", "</s>"};
  options.bos_index = 0;
  options.eos_index = 1;
  options.progress_every_merges = 256;
  options.progress = [&](const BpeTrainProgress& progress) {
    if (progress.stage == BpeTrainProgress::Stage::MERGING && progress.done > 0 &&
        progress.done % 1024 == 0) {
      say(log, "tokenizer: " + std::to_string(progress.done) + "/" +
                   std::to_string(progress.total) + " merges");
    }
    return true;
  };
  BpeTrainResult result = train_bpe(documents, options);
  Tokenizer tokenizer(result.vocab);
  say(log, "tokenizer: " + std::to_string(tokenizer.n_vocab()) + " tokens in " +
               fixed(seconds_since(start), 1) + " s" +
               (result.reached_vocab_size ? "" : " (stopped early: no frequent pair left)"));

  gguf::GgufWriter writer;
  writer.set_string(kRecipeKey, recipe);
  write_tokenizer_vocab(writer, result.vocab);
  fs::create_directories(cache.parent_path().empty() ? fs::path(".") : cache.parent_path());
  writer.write(cache);
  return tokenizer;
}

std::vector<TokenId> tokenize_documents(const Tokenizer& tokenizer, std::string_view text,
                                        int n_threads) {
  const std::optional<int32_t> bos = tokenizer.bos_id(), eos = tokenizer.eos_id();
  if (!bos || !eos) throw Error("the tokenizer needs BOS and EOS tokens");
  if (tokenizer.n_vocab() > 65536) throw Error("token files hold at most 65536 token ids");
  const std::vector<std::string_view> documents = split_documents(text);
  ParallelTasks parallel(n_threads);
  std::vector<std::vector<TokenId>> parts(64);
  const int n_chunks = parallel.for_chunks(
      static_cast<int64_t>(documents.size()), 16, [&](int chunk, int64_t begin, int64_t end) {
        std::vector<TokenId>& out = parts[static_cast<size_t>(chunk)];
        for (int64_t d = begin; d < end; ++d) {
          out.push_back(static_cast<TokenId>(*bos));
          for (int32_t id : tokenizer.encode(documents[static_cast<size_t>(d)]))
            out.push_back(static_cast<TokenId>(id));
          out.push_back(static_cast<TokenId>(*eos));
        }
      });
  std::vector<TokenId> tokens;
  for (int chunk = 0; chunk < n_chunks; ++chunk) {
    tokens.insert(tokens.end(), parts[static_cast<size_t>(chunk)].begin(),
                  parts[static_cast<size_t>(chunk)].end());
  }
  return tokens;
}

namespace {

constexpr char kTokenMagic[8] = {'M', 'O', 'E', 'T', 'O', 'K', 'S', '1'};

struct TokenFileHeader {
  char magic[8];
  uint64_t fingerprint;
  uint64_t stamp_hash;
  uint64_t n_tokens;
};

uint64_t hash_string(const std::string& s) {
  Fnv1a hash;
  hash.add(s);
  return hash.value();
}

bool read_token_cache(const fs::path& cache, uint64_t fingerprint, uint64_t stamp_hash,
                      std::vector<TokenId>& tokens) {
  std::ifstream in(cache, std::ios::binary);
  if (!in) return false;
  TokenFileHeader header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header)) return false;
  if (std::memcmp(header.magic, kTokenMagic, 8) != 0 || header.fingerprint != fingerprint ||
      header.stamp_hash != stamp_hash) {
    return false;
  }
  std::error_code error;
  if (fs::file_size(cache, error) != sizeof header + header.n_tokens * sizeof(TokenId))
    return false;
  tokens.resize(static_cast<size_t>(header.n_tokens));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(tokens.data()),
                                   static_cast<std::streamsize>(tokens.size() * sizeof(TokenId))));
}

void write_token_cache(const fs::path& cache, uint64_t fingerprint, uint64_t stamp_hash,
                       const std::vector<TokenId>& tokens) {
  fs::create_directories(cache.parent_path());
  const fs::path temporary = cache.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    TokenFileHeader header{};
    std::memcpy(header.magic, kTokenMagic, 8);
    header.fingerprint = fingerprint;
    header.stamp_hash = stamp_hash;
    header.n_tokens = tokens.size();
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    out.write(reinterpret_cast<const char*>(tokens.data()),
              static_cast<std::streamsize>(tokens.size() * sizeof(TokenId)));
    if (!out.flush()) throw Error("cannot write " + temporary.string());
  }
  fs::rename(temporary, cache);
}

}  // namespace

std::vector<TokenId> load_or_tokenize(const Tokenizer& tokenizer, const fs::path& source,
                                      const fs::path& cache, int n_threads,
                                      const std::function<void(const std::string&)>& log) {
  const uint64_t fingerprint = tokenizer_fingerprint(tokenizer);
  const uint64_t stamp = hash_string(file_stamp(source));
  std::vector<TokenId> tokens;
  if (read_token_cache(cache, fingerprint, stamp, tokens)) return tokens;
  const auto start = std::chrono::steady_clock::now();
  const std::string text = read_file(source);
  tokens = tokenize_documents(tokenizer, text, n_threads);
  const double seconds = seconds_since(start);
  say(log,
      "tokenized " + source.string() + ": " + fixed(static_cast<double>(text.size()) / 1e6, 1) +
          " MB -> " + std::to_string(tokens.size()) + " tokens (" +
          fixed(static_cast<double>(text.size()) / std::max(1, static_cast<int>(tokens.size())),
                2) +
          " bytes/token) in " + fixed(seconds, 1) + " s");
  write_token_cache(cache, fingerprint, stamp, tokens);
  return tokens;
}

TokenCorpus::TokenCorpus(std::vector<DomainTokens> domains) : domains_(std::move(domains)) {
  if (domains_.empty()) throw Error("the corpus has no domains");
  for (const DomainTokens& domain : domains_) {
    if (domain.train.size() < 2) throw Error("domain '" + domain.name + "' has no training tokens");
  }
}

void TokenCorpus::sample_batch(uint64_t seed, int64_t step, int n_seq, int seq_len,
                               std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const {
  inputs.resize(static_cast<size_t>(n_seq) * static_cast<size_t>(seq_len));
  targets.resize(inputs.size());
  for (int i = 0; i < n_seq; ++i) {
    const uint64_t g =
        static_cast<uint64_t>(step) * static_cast<uint64_t>(n_seq) + static_cast<uint64_t>(i);
    const DomainTokens& domain = domains_[g % domains_.size()];
    const std::vector<TokenId>& stream = domain.train;
    if (stream.size() < static_cast<size_t>(seq_len) + 1) {
      throw Error("domain '" + domain.name + "' has " + std::to_string(stream.size()) +
                  " training tokens, fewer than a window of " + std::to_string(seq_len + 1));
    }
    const uint64_t span = stream.size() - static_cast<size_t>(seq_len);
    const size_t offset = static_cast<size_t>(splitmix64(splitmix64(seed) ^ g) % span);
    for (int t = 0; t < seq_len; ++t) {
      inputs[static_cast<size_t>(i * seq_len + t)] = stream[offset + static_cast<size_t>(t)];
      targets[static_cast<size_t>(i * seq_len + t)] = stream[offset + static_cast<size_t>(t) + 1];
    }
  }
}

int TokenCorpus::validation_windows(size_t domain, int seq_len, int max_windows,
                                    std::vector<int32_t>& inputs,
                                    std::vector<int32_t>& targets) const {
  const std::vector<TokenId>& stream = domains_.at(domain).val;
  const int available =
      stream.size() > 0 ? static_cast<int>((stream.size() - 1) / static_cast<size_t>(seq_len)) : 0;
  const int n = std::min(available, max_windows);
  inputs.resize(static_cast<size_t>(n) * static_cast<size_t>(seq_len));
  targets.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    inputs[i] = stream[i];
    targets[i] = stream[i + 1];
  }
  return n;
}

PreparedData prepare_data(const CorpusSpec& corpus, const TokenizerTrainSpec& tokenizer_spec,
                          const fs::path& cache_dir, int n_threads,
                          const std::function<void(const std::string&)>& log,
                          const Tokenizer* fixed_tokenizer) {
  for (const std::string& domain : corpus.domains) {
    for (const char* split : {"train", "val"}) {
      if (!fs::exists(corpus.file(domain, split)))
        throw Error("missing corpus file " + corpus.file(domain, split).string());
    }
  }
  Tokenizer tokenizer =
      fixed_tokenizer != nullptr
          ? *fixed_tokenizer
          : load_or_train_tokenizer(corpus, tokenizer_spec, cache_dir / "tokenizer.gguf", log);
  if (fixed_tokenizer != nullptr)
    say(log, "tokenizer: " + std::to_string(tokenizer.n_vocab()) + " tokens from the checkpoint");
  std::vector<DomainTokens> domains;
  for (const std::string& domain : corpus.domains) {
    DomainTokens tokens;
    tokens.name = domain;
    tokens.train = load_or_tokenize(tokenizer, corpus.file(domain, "train"),
                                    cache_dir / "tokens" / (domain + ".train.tok"), n_threads, log);
    tokens.val = load_or_tokenize(tokenizer, corpus.file(domain, "val"),
                                  cache_dir / "tokens" / (domain + ".val.tok"), n_threads, log);
    say(log, "data: " + domain + ": " + std::to_string(tokens.train.size()) + " train, " +
                 std::to_string(tokens.val.size()) + " val tokens");
    domains.push_back(std::move(tokens));
  }
  return PreparedData{std::move(tokenizer), TokenCorpus(std::move(domains))};
}

}  // namespace moe::train
