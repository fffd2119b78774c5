#include "script_runner.hpp"

#include <algorithm>
#include <iostream>
#include <numeric>

#include "export_dialog.hpp"
#include "token_text.hpp"
#include "widgets.hpp"

namespace moescope::gui {

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kTimeoutSeconds = 120;

double mean(const std::vector<double>& values) {
  return values.empty() ? 0
                        : std::accumulate(values.begin(), values.end(), 0.0) /
                              static_cast<double>(values.size());
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// The intervention a routing command asks for, on top of `current`. Throws on a bad argument.
moe::RoutingInterventions changed_routing(const ScriptCommand& command,
                                          moe::RoutingInterventions current) {
  switch (command.kind) {
    case ScriptKind::DisableExpert:
      current.disabled.push_back(moe::parse_disabled_expert(command.text));
      break;
    case ScriptKind::TopK:
      current.top_k = command.number;
      break;
    case ScriptKind::Routing:  // a rule, or one of the router knobs
      if (!moe::parse_router_knob(command.text, current))
        moe::parse_routing_rule(command.text, current);
      break;
    default:  // ResetRouting
      current = {};
  }
  return current;
}

}  // namespace

bool ScriptRunner::caught_up(ScriptHost& host) const {
  const Snapshot& shown = host.shown_snapshot();
  Worker& worker = host.worker();
  return worker.idle() && shown.version == worker.snapshot()->version && shown.complete &&
         (!shown.model || shown.prompt == host.prompt() || !typing_.empty());
}

void ScriptRunner::step(ScriptHost& host) {
  if (finished_) return;
  if (!screenshot_path_.empty()) {
    if (frames_left_ > 0) --frames_left_;
    return;  // screenshot_due hands it out once the settling frames are done
  }
  if (!typing_.empty()) {
    // One character per frame, as fast as a quick typist on a slow machine.
    size_t length = utf8_sequence_length(typing_, 0);
    if (length == 0) length = 1;
    host.set_prompt(host.prompt() + typing_.substr(0, length));
    typing_.erase(0, length);
    return;
  }
  if (frames_left_ > 0) {
    --frames_left_;
    return;
  }
  if (next_ >= script_.size()) {
    finished_ = true;
  } else {
    const ScriptCommand& command = script_[next_];
    if (!command_started_) {
      command_started_ = true;
      started_ = Clock::now();
    }
    const bool done = run(command, host);
    const double waited = std::chrono::duration<double>(Clock::now() - started_).count();
    if (!done && waited > kTimeoutSeconds) {
      host.fail("script line " + std::to_string(command.line) + ": timed out after " +
                std::to_string(static_cast<int>(kTimeoutSeconds)) + " s");
      finished_ = true;
    } else if (done) {
      ++next_;
      command_started_ = false;
      issued_ = false;
    }
  }
  if (finished_) report(host);
}

bool ScriptRunner::run(const ScriptCommand& command, ScriptHost& host) {
  const std::string where = "script line " + std::to_string(command.line) + ": ";
  const auto fail_unless_empty = [&](const std::string& error) {
    if (!error.empty()) host.fail(where + error);
  };
  // Commands that wait: the first visit issues the request, later visits check on it.
  const bool first_visit = !issued_;
  issued_ = true;
  switch (command.kind) {
    case ScriptKind::Model:
    case ScriptKind::DemoModel:
      if (first_visit) {
        if (command.kind == ScriptKind::Model) host.open_path(command.text);
        else host.open_demo_model(command.text);
        return false;
      }
      return caught_up(host);
    case ScriptKind::Prompt:
      host.set_prompt(command.text);
      return true;
    case ScriptKind::Type:
      typing_ = command.text;
      return true;
    case ScriptKind::Wait:
      if (!caught_up(host)) return false;
      frames_left_ = 2;  // let the views draw the result
      return true;
    case ScriptKind::Generate:
      if (first_visit) {
        host.generate(command.number);
        return false;
      }
      if (!host.worker().idle() ||
          host.shown_snapshot().version != host.worker().snapshot()->version)
        return false;
      frames_left_ = 2;
      return true;
    case ScriptKind::SelectToken:
      fail_unless_empty(host.select_token(command.number));
      return true;
    case ScriptKind::HoverToken: {
      const int n = static_cast<int>(host.shown_snapshot().tokens.size());
      hover_token_ = command.number < 0 ? n + command.number : command.number;
      if (hover_token_ < 0 || hover_token_ >= n) {
        host.fail(where + "hover-token " + std::to_string(command.number) + ": the prompt has " +
                  std::to_string(n) + " tokens");
        hover_token_ = -1;
      }
      frames_left_ = 2;  // ImGui shows a tooltip after the pointer rested a frame
      return true;
    }
    case ScriptKind::Layer:
      fail_unless_empty(host.select_layer(command.number));
      return true;
    case ScriptKind::Panel:
      host.show_view(command.text);
      hover_token_ = -1;
      frames_left_ = 1;
      return true;
    case ScriptKind::Theme:
      host.set_theme(command.text == "light" ? Theme::Light : Theme::Dark);
      frames_left_ = 1;
      return true;
    case ScriptKind::FontSize:
      host.set_font_size(static_cast<float>(command.number));
      frames_left_ = 1;
      return true;
    case ScriptKind::OpenDialog:
      host.open_file_dialog();
      frames_left_ = 1;
      return true;
    case ScriptKind::CloseDialog:
      host.close_file_dialog();
      frames_left_ = 1;
      return true;
    case ScriptKind::Frames:
      frames_left_ = command.number;
      return true;
    case ScriptKind::Connect:
    case ScriptKind::ImportTrace: {
      // "FIRST [CONFIG]": the URL or file, then the model's config.json if given.
      const size_t space = command.text.find(' ');
      const std::string first = command.text.substr(0, space);
      const std::string config = space == std::string::npos ? "" : command.text.substr(space + 1);
      fail_unless_empty(command.kind == ScriptKind::Connect
                            ? host.connect_server(first, config, 0, 0)
                            : host.import_trace(first, config, 0, 0));
      frames_left_ = 1;
      return true;
    }
    case ScriptKind::CancelRequest:
      host.worker().cancel_load();
      frames_left_ = 1;
      return true;
    case ScriptKind::SaveSession:
      if (!caught_up(host)) return false;
      fail_unless_empty(host.save_session(command.text));
      return true;
    case ScriptKind::OpenSession:
    case ScriptKind::Drop:
      if (first_visit) {
        if (command.kind == ScriptKind::OpenSession) host.open_session(command.text);
        else host.open_path(command.text);  // what GLFW's drop callback does
        return false;
      }
      if (host.restoring_session() || !caught_up(host)) return false;
      if (command.kind == ScriptKind::OpenSession) frames_left_ = 2;
      return true;
    case ScriptKind::ExportFigure:
    case ScriptKind::ExportData:
      if (first_visit) {
        if (command.kind == ScriptKind::ExportFigure) {
          script_export_next_figure(command.text);
        } else {
          script_export_data(static_cast<DataExport>(command.number), command.text);
        }
        return false;
      }
      if (const std::optional<std::string> result = scripted_export_result()) {
        fail_unless_empty(*result);
        if (result->empty()) std::cout << "moescope: exported " << command.text << "\n";
        frames_left_ = 1;
        return true;
      }
      return false;
    case ScriptKind::DisableExpert:
    case ScriptKind::TopK:
    case ScriptKind::Routing:
    case ScriptKind::ResetRouting:
      if (first_visit) {
        try {
          std::string error;
          if (!host.set_interventions(changed_routing(command, host.interventions()), error))
            host.fail(where + error);
        } catch (const std::exception& error) {
          host.fail(where + error.what());
          return true;
        }
        return false;
      }
      if (!caught_up(host) || host.shown_snapshot().trace.interventions() != host.interventions())
        return false;
      frames_left_ = 2;
      return true;
    case ScriptKind::ExplainExpert:
    case ScriptKind::ComparePrompt:
      if (first_visit) {
        if (command.kind == ScriptKind::ExplainExpert) host.explain_expert(command.number);
        else host.compare_prompt(command.text);
        return false;
      }
      if (!caught_up(host)) return false;
      frames_left_ = 2;
      return true;
    case ScriptKind::Tour:
      host.show_tour_step(command.number);
      frames_left_ = 2;
      return true;
    case ScriptKind::Press:
      // Views draw their buttons every frame: give it a few frames to appear.
      if (first_visit) {
        request_button_press(command.text);
        frames_waited_ = 0;
        return false;
      }
      if (take_delivered_press()) {
        frames_left_ = 2;  // let the view show what the press did
        return true;
      }
      if (++frames_waited_ > 5) {
        request_button_press("");
        host.fail(where + "press: no enabled button '" + command.text + "' in the view shown");
        return true;
      }
      return false;
    case ScriptKind::Presenter:
      host.set_presenter(command.number != 0);
      frames_left_ = 2;
      return true;
    case ScriptKind::Key:
      key_to_press_ = command.number;
      frames_left_ = 2;  // pressed on the next frame, released on the one after
      return true;
    case ScriptKind::Screenshot:
      screenshot_path_ = command.text;
      frames_left_ = 2;  // a tab switched or a popup opened just now needs a frame to settle
      return true;
    case ScriptKind::ExpectError:
      if (host.errors_seen() <= errors_expected_) return false;
      ++errors_expected_;
      // Close it, as the user would: the next screenshot shows the app, not the dialog.
      host.dismiss_error_dialog();
      frames_left_ = 1;
      return true;
    case ScriptKind::TrainKnob:
      fail_unless_empty(set_train_knob(host.training(), command.text));
      return true;
    case ScriptKind::TrainReset:
      reset_training(host.training());
      return true;
    case ScriptKind::TrainSteps: {
      std::string error;
      const bool done = train_to_step(host.training(), command.number, first_visit, error);
      fail_unless_empty(error);
      if (done) frames_left_ = 3;  // let the Train tab draw the last published steps
      return done;
    }
    case ScriptKind::Exit:
      finished_ = true;
      return true;
  }
  return true;
}

std::string ScriptRunner::screenshot_due() {
  if (screenshot_path_.empty() || frames_left_ > 0) return {};
  std::string path;
  path.swap(screenshot_path_);
  return path;
}

void ScriptRunner::frame_rendered(double frame_ms) {
  ++frames_;
  recent_frame_ms_.push_back(frame_ms);
  if (recent_frame_ms_.size() > 60) recent_frame_ms_.pop_front();
  if (!typing_.empty()) typing_frame_ms_.push_back(frame_ms);
}

void ScriptRunner::snapshot_shown(const Snapshot& snapshot) {
  if (!typing_.empty() && snapshot.complete && snapshot.version != last_latency_version_) {
    typing_latency_ms_.push_back(snapshot.latency_ms);
    last_latency_version_ = snapshot.version;
  }
}

void ScriptRunner::report(ScriptHost& host) {
  if (host.errors_seen() > errors_expected_)
    host.fail("an error dialog appeared that the script did not expect");
  std::cout << "moescope: " << frames_ << " frames; mean frame "
            << mean(std::vector<double>(recent_frame_ms_.begin(), recent_frame_ms_.end()))
            << " ms (last 60)\n";
  if (!typing_frame_ms_.empty()) {
    std::cout << "moescope: while typing: " << typing_frame_ms_.size()
              << " frames, frame time mean " << mean(typing_frame_ms_) << " ms, p95 "
              << percentile(typing_frame_ms_, 0.95) << " ms\n";
  }
  if (!typing_latency_ms_.empty()) {
    std::cout << "moescope: worker latency per keystroke (post to published snapshot): mean "
              << mean(typing_latency_ms_) << " ms, p95 " << percentile(typing_latency_ms_, 0.95)
              << " ms, " << typing_latency_ms_.size() << " snapshots\n";
  }
  const WorkerCounters counters = host.worker().counters();
  std::cout << "moescope: prompts posted " << counters.prompts_posted << ", computed "
            << counters.prompts_completed << ", coalesced "
            << counters.prompts_posted - counters.prompts_started << ", abandoned "
            << counters.prompts_abandoned << "\n";
}

}  // namespace moescope::gui
