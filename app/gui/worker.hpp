#pragma once
// The worker thread: owns the model, its tokenizer and the Session, and is the only thread that
// runs the model. The UI posts requests (never waits for them) and reads the latest published
// Snapshot, an immutable value shared through std::shared_ptr<const Snapshot>.
//
// Typing posts a prompt per keystroke; only the latest prompt matters, so prompts that arrive
// while one is computing replace each other (coalescing), and a prompt still computing is
// abandoned at the next chunk boundary when a newer one arrives. The Session keeps whatever
// prefix was computed, so the next prompt recomputes only its changed suffix.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "moe/domain_specialization.hpp"
#include "moe/engine_routing.hpp"
#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/random_model.hpp"
#include "moe/routing.hpp"
#include "moe/routing_stats.hpp"
#include "moe/sampling.hpp"
#include "playground.hpp"

namespace moescope::gui {

struct TokenView {
  int32_t id = 0;
  std::string text;   // for display (see token_text.hpp)
  std::string piece;  // the bytes the token stands for
  bool generated = false;
  bool special = false;  // control token such as <s>
};

// "cpu", "cpu-exact" or "gl": what set_backend takes and ModelInfo::backend says.
std::string backend_kind(const moe::Backend& backend);

// Display views of token ids: the first `n_prompt` are the prompt's, the rest generated.
std::vector<TokenView> token_views(const moe::Tokenizer& tokenizer,
                                   const std::vector<int32_t>& ids, int n_prompt);

// A prompt routed on its own beside the current one (prompt B of the comparison, from an
// empty context with the same interventions), for the views that show A and B side by side.
// Its statistics count every token, as the snapshot's do.
struct PromptRun {
  std::string prompt;
  std::vector<TokenView> tokens;
  moe::RoutingTrace trace;
  moe::RoutingStats stats;
};

struct ModelInfo {
  std::string path;
  std::string name;             // general.name, or the file name
  bool random_weights = false;  // a generated demo model: real routing, meaningless weights
  moe::ModelConfig config;
  moe::ParameterCounts parameters;
  std::vector<moe::TensorTypeUsage> tensor_types;
  std::string tokenizer_model;
  int32_t n_vocab = 0;
  uint64_t file_bytes = 0;
  std::string backend;
  int n_ctx = 0;  // positions the session holds
  // Not empty: the trace came from a server or a file (docs/trace-import.md), not from this
  // model; config then holds only the shape (layers, experts, top-k, MoE layers).
  std::string routing_source;
};

enum class WorkerActivity { Idle, Loading, Prefilling, Generating, Domains };

// The routing of the bundled prompt sets (one per domain: code, maths, German ...), each prompt
// from an empty context, the BOS token left out. Computed on request (Worker::compute_domains).
struct DomainResult {
  uint64_t model_generation = 0;  // the model it was computed on
  std::vector<std::string> domains;
  std::vector<moe::RoutingStats> stats;  // per domain, over all its prompts' tokens
  std::vector<moe::LayerSpecialization> specialization;  // per MoE layer
  int top_k = 0;
  int n_prompts = 0;
  long long n_tokens = 0;
};

struct ProfileSource;  // profile_source.hpp

struct Snapshot {
  uint64_t version = 0;                    // increases with every publish
  uint64_t model_generation = 0;           // increases when another model is loaded
  std::shared_ptr<const ModelInfo> model;  // null until a model is loaded
  std::string prompt;                      // the prompt text these tokens come from
  std::vector<TokenView> tokens;           // the computed tokens; the trace covers them
  int n_prompt_tokens = 0;  // tokens of the prompt (BOS included); generated ones follow
  bool complete = true;     // false while a long prompt is still being computed
  moe::RoutingTrace trace;
  moe::RoutingStats stats;
  // The request that produced this snapshot: time from posting to publishing, time spent
  // computing, and how many tokens came from the cache vs were computed.
  double latency_ms = 0;
  double compute_ms = 0;
  int reused_tokens = 0;
  int computed_tokens = 0;
  std::string warning;  // e.g. the prompt was cut to the context length
  // The domain prompt sets on this model; null until computed (or after another model loads).
  std::shared_ptr<const DomainResult> domains;
  // Interventions' measured effect, prompt comparison, expert vocabulary, compute counter.
  // The interventions themselves are trace.interventions().
  std::shared_ptr<const PlaygroundResult> playground;
  // Set on the snapshot the app builds for its pooled views while a corpus profile is open
  // (profile_snapshot): then stats and domains are the profile's pooled counts, and there are
  // no tokens. The worker never sets it.
  std::shared_ptr<const ProfileSource> profile;
};

struct WorkerStatus {
  WorkerActivity activity = WorkerActivity::Idle;
  int done = 0, total = 0;  // tokens computed / to compute (prefill) or generated / asked for,
                            // or domain prompts routed / to route
  std::string subject;      // the file being loaded
  bool busy() const { return activity != WorkerActivity::Idle; }
};

// Something the UI should show once: a failed load, a prompt that could not be computed.
struct WorkerMessage {
  std::string title;
  std::string text;
  bool error = true;
};

// Counters for tests and the status bar.
struct WorkerCounters {
  uint64_t prompts_posted = 0;
  uint64_t prompts_started = 0;  // taken from the queue (the others were coalesced away)
  uint64_t prompts_completed = 0;
  uint64_t prompts_abandoned = 0;  // cut short by a newer request
  uint64_t snapshots_published = 0;
};

struct WorkerOptions {
  int n_threads = 0;      // CPU backend threads (0: all cores)
  std::string backend = "cpu";  // "cpu", "cpu-exact" or "gl"; see set_backend
  int n_ctx = 0;          // session context (0: the session's default)
  int chunk_tokens = 64;  // prompt tokens per step; a newer prompt is noticed between steps
  double publish_interval_ms = 40;  // at most this often while prefilling or generating
};

struct GenerateRequest {
  int n_tokens = 32;
  moe::SamplingOptions sampling;
  // When not empty, these tokens are appended as the continuation instead of sampling
  // (reopening a saved session brings its generated tokens back exactly).
  std::vector<int32_t> replay;
};

class Worker {
public:
  // What the playground functions below queue (the latest of each kind wins).
  struct PlaygroundRequest {
    std::optional<moe::RoutingInterventions> interventions;
    std::optional<std::string> compare_prompt;
    std::optional<std::pair<int, int>> explain;  // (layer, expert)
    std::filesystem::path prompts_folder;
    std::optional<std::pair<int, moe::SamplingOptions>> continuations;
  };

  explicit Worker(WorkerOptions options = {});
  ~Worker();  // finishes the current step, then joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens a GGUF model, paging its weights in with progress (status: done/total in MB).
  // On failure or cancel a WorkerMessage says why and the current model stays.
  void load_model(std::string path);
  // Stops a load in progress (the current model stays). No effect when nothing is loading.
  void cancel_load();
  // Writes a random-weight demo model to `path` (unless it exists) and opens it.
  void load_demo_model(std::string path, moe::RandomModelSpec spec);
  void set_prompt(std::string text);
  // Switches the compute backend and recomputes the current prompt on it: "cpu" (quantized
  // weights times 8-bit activations, as llama.cpp's CPU backend), "cpu-exact" (f32 activations:
  // the exact product of the stored weights) or "gl" (OpenGL compute shaders). The
  // GL backend's context is created on the worker thread (its own EGL context, not the
  // window's). If it cannot start, a WorkerMessage says why and the current backend stays.
  void set_backend(std::string kind);
  void generate(GenerateRequest request);
  void stop_generation();
  // Routes every prompt of every <domain>.txt in `prompts_folder` and publishes a DomainResult.
  // Runs only while no load, prompt or generation is waiting: it pauses for those (and starts
  // again afterwards) and is dropped when another model loads. A failure posts a message.
  void compute_domains(std::filesystem::path prompts_folder);
  // True from compute_domains until its result is published (or it is dropped or fails).
  bool domains_pending() const;

  // A routing source that is not the local model (worker_remote.cpp): `fetch` runs on the
  // worker thread (an SGLang request, reading a file) and is handed a cancel test; its trace is
  // published as the snapshot (ModelInfo::routing_source says where it came from). cancel_load()
  // stops it; a failure posts a message and the current model and trace stay. The next
  // set_prompt goes back to the local model; generation, interventions and domains need it.
  using TraceFetch = std::function<moe::ImportedTrace(const std::function<bool()>& cancelled)>;
  // `prompt`: the text the trace is of (the snapshot's prompt).
  void show_trace(std::string subject, std::string prompt, TraceFetch fetch);

  // The playground (worker_playground.cpp). Each replaces an earlier request of its kind.
  // Routing interventions for the session: the views then show the changed model, and the
  // snapshot's playground holds the measured effect against the unchanged one. Invalid ones
  // post a message and leave the current ones.
  void set_interventions(moe::RoutingInterventions interventions);
  // Prompt B for the load comparison (empty: none).
  void set_compare_prompt(std::string text);
  // The vocabulary of (layer, expert) over the domain prompt sets in `prompts_folder`.
  void explain_expert(int layer, int expert, std::filesystem::path prompts_folder);
  // Both models continue the current tokens by `n_tokens` with the same sampling.
  void compare_continuations(int n_tokens, moe::SamplingOptions sampling);

  std::shared_ptr<const Snapshot> snapshot() const;
  WorkerStatus status() const;
  WorkerCounters counters() const;
  std::vector<WorkerMessage> take_messages();
  // True when nothing is queued or running.
  bool idle() const;
  // Blocks until idle() or the timeout; for tests and the scripted mode (never the UI loop).
  bool wait_idle(std::chrono::milliseconds timeout) const;

private:
  using Clock = std::chrono::steady_clock;
  struct LoadRequest {
    std::string path;
    std::optional<moe::RandomModelSpec> demo_spec;
  };
  struct PromptRequest {
    std::string text;
    Clock::time_point posted;
  };
  struct TraceRequest {
    std::string subject;
    std::string prompt;
    TraceFetch fetch;
  };
  struct State;  // model, tokenizer, session: touched by the worker thread only

  void run();
  void do_load(const LoadRequest& request);
  // Applies a pending set_backend (worker thread): a new backend and session for the model.
  void apply_pending_backend();
  void do_prompt(const PromptRequest& request, uint64_t request_id);
  void do_trace(const TraceRequest& request);
  // Back from a shown remote trace to the local model (worker thread); true if it was shown.
  bool leave_remote_trace();
  void do_generate(const GenerateRequest& request, Clock::time_point posted);
  // True when finished (published or failed); false when it gave way to another request.
  bool do_domains(const std::filesystem::path& prompts_folder, uint64_t request_id);
  void post_playground(PlaygroundRequest request);
  void do_playground(const PlaygroundRequest& request);
  // Recomputes the playground results that depend on the session's tokens (after a prompt or
  // a generation): compute counter, interventions' effect, comparison.
  void refresh_playground();
  PlaygroundInputs playground_inputs() const;
  bool other_request_pending() const;
  bool nothing_pending() const;  // no request waiting; the caller holds mutex_
  void restore_prompt();
  void publish(const PromptRequest& request, bool complete, double compute_ms, int reused,
               int computed);
  bool newer_request_than(uint64_t request_id) const;
  void set_status(WorkerActivity activity, int done, int total, std::string subject = {});
  void post_message(WorkerMessage message);

  WorkerOptions options_;
  std::unique_ptr<State> state_;

  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;  // the worker waits for requests
  mutable std::condition_variable became_idle_;
  std::optional<LoadRequest> pending_load_;
  std::optional<PromptRequest> pending_prompt_;
  std::optional<std::pair<GenerateRequest, Clock::time_point>> pending_generate_;
  std::optional<std::filesystem::path> pending_domains_;
  std::optional<std::string> pending_backend_;  // applied before the next prompt
  std::optional<PlaygroundRequest> pending_playground_;
  std::optional<TraceRequest> pending_trace_;
  bool domains_running_ = false;
  bool running_request_ = false;
  bool quit_ = false;
  std::shared_ptr<const Snapshot> snapshot_;
  WorkerStatus status_;
  WorkerCounters counters_;
  std::vector<WorkerMessage> messages_;

  std::atomic<uint64_t> request_serial_{0};  // bumped by every prompt or load request
  std::atomic<bool> stop_generation_{false};
  std::atomic<bool> cancel_load_{false};
  std::thread thread_;
};

}  // namespace moescope::gui
