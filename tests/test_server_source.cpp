// SGLang as a routing source, against the fake server of tests/support: a normal answer, a slow
// one (timeout, cancel), an HTTP error, a server without --enable-return-routed-experts, and
// answers that are broken in transit or do not match the model.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_sglang_server.hpp"
#include "moe/sglang_client.hpp"

namespace {

using moe::testing::fake_expert;
using moe::testing::fake_server_shape;
using moe::testing::FakeServerMode;
using moe::testing::FakeSglangServer;

moe::HttpOptions quick_options() {
  moe::HttpOptions options;
  options.connect_timeout_s = 5;
  options.timeout_s = 30;
  options.retries = 1;
  options.backoff_s = 0.05;
  return options;
}

std::string route_error(FakeServerMode mode, moe::HttpOptions options = quick_options(),
                        moe::TraceShape shape = fake_server_shape()) {
  FakeSglangServer server(mode);
  try {
    moe::sglang_route(server.url(), {"Hi", 0, 0}, shape, options);
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(SglangSource, RoutesThePromptWithItsTokens) {
  FakeSglangServer server(FakeServerMode::Normal);
  const moe::ImportedTrace routed =
      moe::sglang_route(server.url(), {"Solve", 0, 0}, fake_server_shape(), quick_options());
  // Asked for one token: the routing covers exactly the prompt.
  ASSERT_EQ(routed.trace.n_tokens(), 5);
  EXPECT_EQ(routed.prompt_tokens, 5);
  EXPECT_TRUE(routed.trace.chosen_experts_only());
  EXPECT_EQ(routed.tokens[0].text, "S");
  EXPECT_EQ(routed.tokens[4].id, 'e');
  for (int t = 0; t < 5; ++t)
    for (int layer : {1, 2, 3})
      EXPECT_EQ(routed.trace.at(t, layer).experts,
                (std::vector<int32_t>{fake_expert(t, layer, 0), fake_expert(t, layer, 1)}));
  const nlohmann::json sent = nlohmann::json::parse(server.last_generate_body());
  EXPECT_EQ(sent.at("return_routed_experts"), true);
  EXPECT_EQ(sent.at("logprob_start_len"), 0);
  EXPECT_EQ(sent.at("return_text_in_logprobs"), true);
  EXPECT_EQ(sent.at("sampling_params").at("max_new_tokens"), 1);
}

TEST(SglangSource, GenerationRoutesEveryTokenButTheLast) {
  FakeSglangServer server(FakeServerMode::Normal);
  const moe::ImportedTrace routed =
      moe::sglang_route(server.url(), {"Hi", 4, 0}, fake_server_shape(), quick_options());
  EXPECT_EQ(routed.trace.n_tokens(), 2 + 4 - 1);
  EXPECT_EQ(routed.prompt_tokens, 2);
  EXPECT_EQ(routed.completion, "abcd");
  EXPECT_EQ(routed.tokens[4].text, "c");
}

TEST(SglangSource, EveryFailureIsOneClearError) {
  EXPECT_TRUE(contains(route_error(FakeServerMode::HttpError), "HTTP 500"));
  EXPECT_TRUE(contains(route_error(FakeServerMode::HttpError), "CUDA out of memory"));
  const std::string no_flag = route_error(FakeServerMode::WithoutFlag);
  EXPECT_TRUE(contains(no_flag, "enable_return_routed_experts is false"));
  EXPECT_TRUE(contains(no_flag, "restart SGLang with --enable-return-routed-experts"));
  EXPECT_TRUE(contains(route_error(FakeServerMode::BadBase64), "not base64"));
  EXPECT_FALSE(route_error(FakeServerMode::Truncated).empty());
  EXPECT_TRUE(
      contains(route_error(FakeServerMode::WrongShape), "the layer count or top-k does not match"));
  moe::TraceShape top3 = fake_server_shape();
  top3.top_k = 3;
  EXPECT_TRUE(contains(route_error(FakeServerMode::Normal, quick_options(), top3), "top-3"));
  moe::HttpOptions tiny = quick_options();
  tiny.max_response_bytes = 64;
  EXPECT_TRUE(contains(route_error(FakeServerMode::Normal, tiny), "larger than"));
}

TEST(SglangSource, AServerThatIsDownIsSaidToBeSo) {
  std::string url;
  {
    FakeSglangServer gone(FakeServerMode::Normal);
    url = gone.url();
  }  // closed: nothing listens on that port now
  moe::HttpOptions options = quick_options();
  try {
    moe::sglang_route(url, {"Hi", 0, 0}, fake_server_shape(), options);
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_TRUE(contains(error.what(), "cannot connect")) << error.what();
    EXPECT_TRUE(contains(error.what(), "tried 2 times")) << error.what();
  }
}

TEST(SglangSource, ASlowServerTimesOut) {
  moe::HttpOptions options = quick_options();
  options.timeout_s = 0.5;
  EXPECT_TRUE(contains(route_error(FakeServerMode::Slow, options), "no complete answer within"));
}

TEST(SglangSource, CancelStopsTheWaitFromAnotherThread) {
  FakeSglangServer server(FakeServerMode::Slow);
  std::atomic<bool> cancel{false};
  moe::HttpOptions options = quick_options();
  options.cancelled = [&] { return cancel.load(); };
  std::thread canceller([&] {
    while (server.generate_requests() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cancel = true;
  });
  EXPECT_THROW(moe::sglang_route(server.url(), {"Hi", 0, 0}, fake_server_shape(), options),
               moe::HttpCancelled);
  canceller.join();
}
