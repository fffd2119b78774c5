#pragma once
// A stand-in for an SGLang server, for the tests of the server routing source: a thread on
// 127.0.0.1 (an ephemeral port) that answers /generate, /server_info and /model_info as SGLang's
// native API does when started with --enable-return-routed-experts, or in one of the ways that
// must give a clear error.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "moe/chosen_experts.hpp"

namespace moe::testing {

enum class FakeServerMode {
  Normal,       // routing for every prompt and generated token but the last
  Slow,         // answers only after 60 s (or when the client hangs up): timeout and cancel
  HttpError,    // 500 with an error text
  WithoutFlag,  // a server started without --enable-return-routed-experts
  BadBase64,    // routed_experts is not base64
  Truncated,    // Content-Length promises more than is sent
  WrongShape,   // routing for 2 layers of the 4 (neither every layer nor the 3 MoE layers)
};

// The model the fake server pretends to serve: 4 layers, layer 0 dense (first_k_dense_replace
// 1), 8 routed experts, top-2; its config.json is fake_model_config().
TraceShape fake_server_shape();
std::string fake_model_config();
// The expert the fake server reports for (position, layer, rank): distinct over rank.
int32_t fake_expert(int position, int layer, int rank);
// Its tokens: one per byte of the prompt, id = the byte; generated tokens are 'a', 'b', ...

class FakeSglangServer {
public:
  explicit FakeSglangServer(FakeServerMode mode);
  ~FakeSglangServer();
  FakeSglangServer(const FakeSglangServer&) = delete;
  FakeSglangServer& operator=(const FakeSglangServer&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT
  int generate_requests() const { return generate_requests_; }
  std::string last_generate_body() const;

private:
  void serve();
  void answer(int client);

  FakeServerMode mode_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> generate_requests_{0};
  mutable std::mutex mutex_;
  std::string last_body_;
  std::thread thread_;
};

}  // namespace moe::testing
