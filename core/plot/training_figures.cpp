#include "moe/plot/training_figures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe::plot {

namespace {

// 5029888 -> "5.03 M", 81920 -> "81.9 k", 512 -> "512".
std::string count_text(int64_t count) {
  const double value = static_cast<double>(count);
  if (value >= 1e9) return format_number(value / 1e9, 2) + " B";
  if (value >= 1e6) return format_number(value / 1e6, 2) + " M";
  if (value >= 1e4) return format_number(value / 1e3, 1) + " k";
  return std::to_string(count);
}

// The largest finite value of `values` (or `floor` when larger).
double finite_max(const std::vector<double>& values, double floor) {
  for (double v : values)
    if (std::isfinite(v)) floor = std::max(floor, v);
  return floor;
}

// The last finite value, NaN when there is none.
double last_finite(const std::vector<double>& values) {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (std::isfinite(*it)) return *it;
  return std::numeric_limits<double>::quiet_NaN();
}

// A line through the finite points only (a NaN leaves a point out, it does not end the line).
Line finite_line(const std::vector<double>& xs, const std::vector<double>& ys) {
  Line line;
  for (size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (!std::isfinite(ys[i])) continue;
    line.xs.push_back(xs[i]);
    line.ys.push_back(ys[i]);
  }
  return line;
}

int64_t last_step(const TrainingLog& log) {
  int64_t last = 0;
  if (!log.steps.empty()) last = std::max(last, log.steps.back().step);
  if (!log.evals.empty()) last = std::max(last, log.evals.back().step);
  return last;
}

int64_t tokens_seen(const TrainingLog& log) {
  int64_t tokens = 0;
  if (!log.steps.empty()) tokens = std::max(tokens, log.steps.back().tokens);
  if (!log.evals.empty()) tokens = std::max(tokens, log.evals.back().tokens);
  return tokens;
}

// "step 614 of 1000, 5.03 M tokens seen (8192 per step)"
std::string progress_note(const TrainingLog& log) {
  std::string note = "step " + std::to_string(last_step(log));
  if (log.planned_steps > 0) note += " of " + std::to_string(log.planned_steps);
  const int64_t tokens = tokens_seen(log);
  if (tokens > 0) note += ", " + count_text(tokens) + " tokens seen";
  if (log.batch_tokens > 0) note += " (" + std::to_string(log.batch_tokens) + " per step)";
  return note;
}

// x from step 0 to a little past a round number at or past the last step (so that the last
// tick's label is not cut by the image's edge).
void step_axis(Figure& figure, const TrainingLog& log) {
  figure.x.label = "step";
  figure.x.min = 0;
  const double round_end = nice_ceiling(static_cast<double>(std::max<int64_t>(last_step(log), 1)));
  figure.x.ticks = nice_ticks(figure.x.min, round_end, 6);
  figure.x.max = round_end * 1.04;
}

// The colour of the n-th domain: the expert colours without the yellow and the indigo, which
// are too faint as thin lines on a white or a dark background.
Color domain_color(size_t n) {
  static constexpr int kUsable[] = {0, 1, 2, 4, 5, 6, 8, 9, 11, 12, 13, 14, 10, 15};
  constexpr size_t kCount = sizeof kUsable / sizeof kUsable[0];
  return expert_color(n < kCount ? kUsable[n] : static_cast<int>(n - kCount) + 16);
}

// y from 0 to a round number past `max_value`, with a grid.
void value_axis(Figure& figure, const std::string& label, double max_value) {
  figure.y.label = label;
  figure.y.min = 0;
  figure.y.max = nice_ceiling(max_value * 1.02);
  figure.y.ticks = nice_ticks(figure.y.min, figure.y.max, 6);
  figure.y.grid = true;
}

// A series per step drawn twice: every value thin and faint, its running mean bold on top.
void add_smoothed_series(Figure& figure, const std::vector<double>& xs,
                         const std::vector<double>& values, int window, const std::string& label,
                         std::optional<Color> color, Color faint_color) {
  Line raw = finite_line(xs, values);
  raw.color = faint_color;
  raw.width = 1;
  raw.label = label + ", per step";
  Line smooth = finite_line(xs, running_mean(values, window));
  smooth.color = color;
  smooth.width = 2.25f;
  smooth.label = label + ", mean of " + std::to_string(std::max(window, 1)) + " steps";
  // One legend entry per series, and one note for how every series is drawn: the legend fits
  // the Train tab's small charts without cutting its labels.
  figure.legend.push_back({label, smooth.color, true, false});
  const std::string how = "bold: mean of " + std::to_string(std::max(window, 1)) +
                          " steps; faint: each step";
  if (std::find(figure.notes.begin(), figure.notes.end(), how) == figure.notes.end())
    figure.notes.push_back(how);
  figure.lines.push_back(std::move(raw));
  figure.lines.push_back(std::move(smooth));
}

}  // namespace

std::vector<double> running_mean(const std::vector<double>& values, int window) {
  const size_t width = static_cast<size_t>(std::max(window, 1));
  std::vector<double> means(values.size(), std::numeric_limits<double>::quiet_NaN());
  double sum = 0;  // of the finite values in the window
  size_t count = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) {
      sum += values[i];
      ++count;
    }
    if (i >= width && std::isfinite(values[i - width])) {
      sum -= values[i - width];
      --count;
    }
    if (count > 0) means[i] = sum / static_cast<double>(count);
  }
  return means;
}

Figure training_loss_figure(const TrainingLog& log, int smooth_window) {
  Figure figure;
  figure.title = "Training loss" + (log.name.empty() ? std::string() : ": " + log.name);
  if (log.steps.empty() && log.evals.empty()) {
    figure.notes.push_back("the log has no training steps yet");
    return figure;
  }
  figure.notes.push_back(progress_note(log));

  std::vector<double> xs, losses;
  for (const TrainingStep& step : log.steps) {
    xs.push_back(static_cast<double>(step.step));
    losses.push_back(step.loss);
  }
  double max_value = 0;
  if (!log.steps.empty()) {
    add_smoothed_series(figure, xs, losses, smooth_window, "train loss", std::nullopt,
                        Color::from_rgb(0x8C8C8C, 0.45f));
    max_value = finite_max(losses, max_value);
  }

  // Domains in the config's order, then any the config did not list in order of appearance.
  std::vector<std::string> domains = log.domains;
  for (const TrainingEval& eval : log.evals) {
    for (const auto& [domain, loss] : eval.val_loss) {
      if (std::find(domains.begin(), domains.end(), domain) == domains.end())
        domains.push_back(domain);
    }
  }
  size_t drawn_domains = 0;
  for (const std::string& domain : domains) {
    Line line;
    for (const TrainingEval& eval : log.evals) {
      for (const auto& [name, loss] : eval.val_loss) {
        if (name != domain || !std::isfinite(loss)) continue;
        line.xs.push_back(static_cast<double>(eval.step));
        line.ys.push_back(loss);
        max_value = std::max(max_value, loss);
      }
    }
    if (line.xs.empty()) continue;  // listed in the config but never evaluated
    line.color = domain_color(drawn_domains++);
    line.width = 2;
    line.markers = true;
    line.label = "val " + domain;
    figure.legend.push_back({line.label, line.color, true, false});
    figure.lines.push_back(std::move(line));
  }

  std::string note;
  const double smoothed_now = last_finite(running_mean(losses, smooth_window));
  if (std::isfinite(smoothed_now))
    note = "train loss now " + format_number(smoothed_now, 3) + " (mean of " +
           std::to_string(std::max(smooth_window, 1)) + " steps)";
  if (!log.evals.empty()) {
    const TrainingEval& last = log.evals.back();
    if (!note.empty()) note += ";  ";
    note += "validation at step " + std::to_string(last.step);
    if (std::isfinite(last.val_loss_mean)) {
      note += ": mean " + format_number(last.val_loss_mean, 3) + " (perplexity " +
              format_number(std::exp(last.val_loss_mean), 1) + ")";
    }
  } else if (!log.steps.empty()) {
    note += ";  no validation yet";
  }
  if (!note.empty()) figure.notes.push_back(note);

  step_axis(figure, log);
  value_axis(figure, "loss (nats per token)", max_value);
  return figure;
}

Figure training_balance_figure(const TrainingLog& log, int smooth_window) {
  Figure figure;
  figure.title =
      "Expert load balance during training" + (log.name.empty() ? std::string() : ": " + log.name);
  if (log.steps.empty()) {
    figure.notes.push_back("the log has no training steps yet");
    return figure;
  }
  std::vector<double> xs, cvs, balances;
  for (const TrainingStep& step : log.steps) {
    xs.push_back(static_cast<double>(step.step));
    cvs.push_back(step.load_cv);
    balances.push_back(step.load_balance);
  }
  const Color cv_color = Color::from_rgb(0xD55E00);
  const Color balance_color = Color::from_rgb(0x0072B2);
  add_smoothed_series(figure, xs, cvs, smooth_window, "load CV", cv_color,
                      cv_color.with_alpha(0.3f));
  add_smoothed_series(figure, xs, balances, smooth_window, "load-balancing loss", balance_color,
                      balance_color.with_alpha(0.3f));

  step_axis(figure, log);
  Line even;
  even.xs = {figure.x.min, figure.x.max};
  even.ys = {1, 1};
  even.color = Color::from_rgb(0x8C8C8C);
  even.width = 1;
  even.dashed = true;
  even.label = "even load (= 1)";
  figure.legend.push_back({even.label, even.color, true, true});
  figure.lines.push_back(std::move(even));

  const double cv_now = last_finite(running_mean(cvs, smooth_window));
  const double balance_now = last_finite(running_mean(balances, smooth_window));
  const auto value_text = [](double v) { return std::isfinite(v) ? format_number(v, 3) : "n/a"; };
  figure.notes.push_back(progress_note(log));
  figure.notes.push_back("now: load CV " + value_text(cv_now) + ", load-balancing loss " +
                         value_text(balance_now) + " (means of the last " +
                         std::to_string(std::max(smooth_window, 1)) + " steps)");
  figure.notes.push_back(
      "CV: std / mean of the experts' token counts (0 = even);  balancing loss: Switch aux loss "
      "(1 = even)");

  value_axis(figure, "mean over MoE layers",
             std::max({finite_max(cvs, 0), finite_max(balances, 0), 1.0}));
  return figure;
}

}  // namespace moe::plot
