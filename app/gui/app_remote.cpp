// Routing sources that are not the local model, in the app: File > Connect to server (an SGLang
// server started with --enable-return-routed-experts routes the prompt box's text) and File >
// Import trace (an SGLang or vLLM answer, .npy, the moescope-trace format, route --json). The
// worker does the waiting (worker_remote.cpp); the status bar's Cancel stops it.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <filesystem>

#include "app.hpp"
#include "moe/chosen_experts.hpp"
#include "moe/error.hpp"
#include "moe/sglang_client.hpp"

namespace moescope::gui {

namespace {

std::string shape_help() {
  return "The model's config.json (from its Hugging Face page) gives the layers, the dense "
         "layers and top-k; or give the layer count and top-k.";
}

}  // namespace

std::string App::connect_server(const std::string& url, const std::string& model_config, int layers,
                                int top_k) {
  try {
    if (url.empty()) throw moe::Error("give the server's address, e.g. http://gpu-node:30000");
    std::optional<moe::TraceShape> shape =
        moe::trace_shape_from_user(model_config, layers, top_k, 0);
    if (!shape) throw moe::Error("the server does not say the model's shape. " + shape_help());
    server_ = ServerConnection{url, std::move(*shape)};
  } catch (const std::exception& error) {
    return error.what();
  }
  route_on_server(prompt_state_.text, 0);
  return {};
}

void App::disconnect_server() {
  if (!server_) return;
  server_.reset();
  worker_->set_prompt(prompt_state_.text);  // back to the local model
}

void App::route_on_server(const std::string& prompt, int max_new_tokens) {
  if (!server_) return;
  if (prompt.empty()) return;  // nothing to route; the last trace stays
  const ServerConnection server = *server_;
  worker_->show_trace(
      server.url, prompt, [server, prompt, max_new_tokens](const std::function<bool()>& cancelled) {
        moe::HttpOptions options;
        options.cancelled = cancelled;
        return moe::sglang_route(server.url, {prompt, max_new_tokens, 0}, server.shape, options);
      });
}

bool App::is_trace_file(const std::string& path) {
  const std::string extension = std::filesystem::path(path).extension().string();
  return extension == ".npy" || (extension == ".json" && !is_session_file(path));
}

std::string App::import_trace(const std::string& path, const std::string& model_config, int layers,
                              int top_k) {
  std::optional<moe::TraceShape> shape;
  try {
    if (path.empty()) throw moe::Error("give the file to import");
    shape = moe::trace_shape_from_user(model_config, layers, top_k, 0);
  } catch (const std::exception& error) {
    return error.what();
  }
  server_.reset();
  worker_->show_trace(
      std::filesystem::path(path).filename().string(), prompt_state_.text,
      [path, shape](const std::function<bool()>&) { return moe::import_trace_file(path, shape); });
  return {};
}

void App::draw_source_dialog() {
  static constexpr const char* kConnectTitle = "Connect to an SGLang server";
  static constexpr const char* kImportTitle = "Import a routing trace";
  if (source_dialog_requested_ != SourceDialog::None) {
    source_dialog_ = source_dialog_requested_;
    source_dialog_requested_ = SourceDialog::None;
    source_error_.clear();
    ImGui::OpenPopup(source_dialog_ == SourceDialog::Connect ? kConnectTitle : kImportTitle);
  }
  if (source_dialog_ == SourceDialog::None) return;
  const bool connect = source_dialog_ == SourceDialog::Connect;
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 36, 0), ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal(connect ? kConnectTitle : kImportTitle, nullptr,
                              ImGuiWindowFlags_AlwaysAutoResize)) {
    source_dialog_ = SourceDialog::None;
    return;
  }
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 34);
  if (connect) {
    ImGui::TextUnformatted(
        "The prompt box's text is routed on the server (started with "
        "--enable-return-routed-experts) until you open a model or disconnect. Servers return "
        "only the chosen experts: views that need router scores say so.");
    ImGui::InputText("Server", &source_url_);
  } else {
    ImGui::TextUnformatted(
        "An SGLang /generate answer, vLLM's routed_experts (JSON), a .npy of expert ids, the "
        "moescope-trace format or a route --json file (docs/trace-import.md).");
    ImGui::InputTextWithHint("File", "path to the trace", &source_file_);
  }
  ImGui::TextDisabled("%s", shape_help().c_str());
  ImGui::InputTextWithHint(
      "config.json", connect ? "the served model's config.json" : "needed for an SGLang answer",
      &source_config_);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::InputInt("layers", &source_layers_, 0);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::InputInt("top-k", &source_top_k_, 0);
  if (!source_error_.empty())
    ImGui::TextColored(ImVec4(0.95f, 0.4f, 0.35f, 1), "%s", source_error_.c_str());
  ImGui::PopTextWrapPos();
  if (ImGui::Button(connect ? "Connect" : "Import")) {
    source_error_ = connect
                        ? connect_server(source_url_, source_config_, source_layers_, source_top_k_)
                        : import_trace(source_file_, source_config_, source_layers_, source_top_k_);
    if (source_error_.empty()) {
      source_dialog_ = SourceDialog::None;
      ImGui::CloseCurrentPopup();
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) {
    source_dialog_ = SourceDialog::None;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

}  // namespace moescope::gui
