#include "fake_sglang_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "moe/base64.hpp"

namespace moe::testing {

namespace {

constexpr int kLayers = 4;
constexpr int kExperts = 8;
constexpr int kTopK = 2;

void send_all(int client, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(client, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

void reply(int client, int status, const std::string& body, size_t announced = 0) {
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error";
  send_all(client, "HTTP/1.1 " + std::to_string(status) + " " + reason +
                       "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(announced ? announced : body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body);
}

// The request's first line and body (by Content-Length); false when the client went away.
bool read_request(int client, std::string& request_line, std::string& body) {
  std::string data;
  char buffer[4096];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    data.append(buffer, static_cast<size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  request_line = data.substr(0, data.find("\r\n"));
  size_t length = 0;
  std::string headers = data.substr(0, header_end);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = headers.find("content-length:");
  if (at != std::string::npos) length = std::stoul(headers.substr(at + 15));
  body = data.substr(header_end + 4);
  while (body.size() < length) {
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    body.append(buffer, static_cast<size_t>(n));
  }
  return true;
}

nlohmann::json logprob_entries(const std::vector<int32_t>& ids) {
  nlohmann::json entries = nlohmann::json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    entries.push_back({i == 0 ? nlohmann::json(nullptr) : nlohmann::json(-1.5), ids[i],
                       std::string(1, static_cast<char>(ids[i]))});
  }
  return entries;
}

std::string generate_answer(const nlohmann::json& request, FakeServerMode mode) {
  const std::string text = request.at("text").get<std::string>();
  const int max_new = request.at("sampling_params").value("max_new_tokens", 16);
  std::vector<int32_t> prompt(text.begin(), text.end());
  std::vector<int32_t> output;
  for (int i = 0; i < max_new; ++i) output.push_back('a' + i % 26);
  const int rows = static_cast<int>(prompt.size() + output.size()) - 1;
  const int layers = mode == FakeServerMode::WrongShape ? kLayers - 2 : kLayers;
  std::vector<uint8_t> bytes;
  for (int t = 0; t < rows; ++t) {
    for (int layer = 0; layer < layers; ++layer) {
      for (int j = 0; j < kTopK; ++j) {
        // SGLang's buffer holds zeros at the dense layers (no router ran there).
        const auto id = static_cast<uint32_t>(layer == 0 ? 0 : fake_expert(t, layer, j));
        for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<uint8_t>(id >> (8 * b)));
      }
    }
  }
  nlohmann::json meta = {{"id", "fake"},
                         {"finish_reason", {{"type", "length"}, {"length", max_new}}},
                         {"prompt_tokens", prompt.size()},
                         {"completion_tokens", output.size()},
                         {"cached_tokens", 0}};
  if (request.value("return_logprob", false)) {
    meta["input_token_logprobs"] = logprob_entries(prompt);
    meta["output_token_logprobs"] = logprob_entries(output);
  }
  if (mode != FakeServerMode::WithoutFlag && request.value("return_routed_experts", false)) {
    meta["routed_experts"] = mode == FakeServerMode::BadBase64
                                 ? std::string("AAAA!!!!not base64")
                                 : encode_base64(bytes.data(), bytes.size());
  }
  return nlohmann::json{{"text", std::string(output.begin(), output.end())}, {"meta_info", meta}}
      .dump();
}

}  // namespace

TraceShape fake_server_shape() {
  TraceShape shape;
  shape.n_layer = kLayers;
  shape.n_expert = kExperts;
  shape.top_k = kTopK;
  shape.moe_layers = {1, 2, 3};
  shape.model = "deepseek_v3";
  return shape;
}

std::string fake_model_config() {
  return nlohmann::json{{"architectures", {"DeepseekV3ForCausalLM"}},
                        {"model_type", "deepseek_v3"},
                        {"num_hidden_layers", kLayers},
                        {"n_routed_experts", kExperts},
                        {"n_shared_experts", 1},
                        {"num_experts_per_tok", kTopK},
                        {"first_k_dense_replace", 1},
                        {"moe_layer_freq", 1}}
      .dump(2);
}

int32_t fake_expert(int position, int layer, int rank) {
  return (position * 3 + layer * 5 + rank) % kExperts;
}

FakeSglangServer::FakeSglangServer(FakeServerMode mode) : mode_(mode) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0) throw std::runtime_error("fake server: no socket");
  const int yes = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the system picks a free port
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 16) != 0) {
    ::close(listener_);
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  }
  socklen_t size = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeSglangServer::~FakeSglangServer() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::string FakeSglangServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string FakeSglangServer::last_generate_body() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_body_;
}

void FakeSglangServer::serve() {
  while (!stop_) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 20) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

void FakeSglangServer::answer(int client) {
  std::string request_line, body;
  if (!read_request(client, request_line, body)) return;
  if (request_line.rfind("GET /server_info", 0) == 0) {
    reply(client, 200,
          nlohmann::json{{"model_path", "deepseek-ai/DeepSeek-V3"},
                         {"tp_size", 8},
                         {"enable_return_routed_experts", mode_ != FakeServerMode::WithoutFlag}}
              .dump());
    return;
  }
  if (request_line.rfind("GET /model_info", 0) == 0) {
    reply(
        client, 200,
        nlohmann::json{{"model_path", "deepseek-ai/DeepSeek-V3"}, {"is_generation", true}}.dump());
    return;
  }
  if (request_line.rfind("POST /generate", 0) != 0) {
    reply(client, 404, R"({"detail":"Not Found"})");
    return;
  }
  ++generate_requests_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_body_ = body;
  }
  if (mode_ == FakeServerMode::HttpError) {
    reply(client, 500, R"({"error":{"message":"CUDA out of memory"}})");
    return;
  }
  if (mode_ == FakeServerMode::Slow) {
    // Until the test ends or the client hangs up (a cancelled request closes its socket).
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      pollfd hangup{client, POLLIN, 0};
      if (::poll(&hangup, 1, 10) > 0) {
        char byte;
        if (::recv(client, &byte, 1, MSG_PEEK) <= 0) return;
      }
    }
    if (stop_) return;
  }
  std::string answer;
  try {
    answer = generate_answer(nlohmann::json::parse(body), mode_);
  } catch (const std::exception& error) {
    reply(client, 400, nlohmann::json{{"error", error.what()}}.dump());
    return;
  }
  if (mode_ == FakeServerMode::Truncated) {
    reply(client, 200, answer.substr(0, answer.size() / 2), answer.size());
    return;
  }
  reply(client, 200, answer);
}

}  // namespace moe::testing
