#include "moe/plot/model_figures.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace moe::plot {

namespace {

// A divisor and suffix that keep numbers short: 1.2B, 350M, 45K.
struct Unit {
  double divisor;
  const char* suffix;
};

Unit unit_for(double max_value) {
  if (max_value >= 1e12) return {1e12, "T"};
  if (max_value >= 1e9) return {1e9, "G"};
  if (max_value >= 1e6) return {1e6, "M"};
  if (max_value >= 1e3) return {1e3, "K"};
  return {1, ""};
}

std::string short_number(double value, const Unit& unit) {
  const double scaled = value / unit.divisor;
  return format_number(scaled, scaled < 10 ? 2 : scaled < 100 ? 1 : 0) + unit.suffix;
}

}  // namespace

Figure parameters_figure(const ParameterCounts& counts) {
  Figure figure;
  const Unit unit = unit_for(static_cast<double>(counts.total));
  figure.title = "Parameters: " + short_number(static_cast<double>(counts.total), unit) +
                 " in total, " + short_number(static_cast<double>(counts.active_per_token), unit) +
                 " active per token";
  if (counts.total > 0) {
    figure.notes.push_back("a token uses " +
                           format_number(100.0 * static_cast<double>(counts.active_per_token) /
                                             static_cast<double>(counts.total),
                                         1) +
                           "% of the weights: only its top-k experts run");
  }
  struct Part {
    const char* name;
    uint32_t rgb;
    uint64_t total, active;
  };
  const uint64_t other = counts.norms + counts.router;
  const std::vector<Part> parts = {
      {"embedding + output", 0x88CCEE, counts.embedding + counts.output,
       counts.embedding + counts.output},
      {"attention", 0x44AA99, counts.attention, counts.attention},
      {"experts", 0xCC6677, counts.experts, counts.active_experts},
      {"dense FFN", 0xDDCC77, counts.dense_ffn, counts.dense_ffn},
      {"router + norms", 0xAAAAAA, other, other}};
  figure.x.label = "";
  figure.x.min = 0;
  figure.x.max = 2;
  figure.x.ticks = category_ticks({"all parameters", "active per token"});
  figure.y.label =
      std::string("parameters") + (unit.suffix[0] ? std::string(" (") + unit.suffix + ")" : "");
  figure.y.min = 0;
  figure.y.max = nice_ceiling(static_cast<double>(counts.total) / unit.divisor * 1.05);
  figure.y.ticks = nice_ticks(0, figure.y.max, 5);
  figure.y.grid = true;
  double stacked[2] = {0, 0};
  for (const Part& part : parts) {
    if (part.total == 0) continue;
    figure.legend.push_back({part.name, Color::from_rgb(part.rgb), false, false});
    const uint64_t values[2] = {part.total, part.active};
    for (int column = 0; column < 2; ++column) {
      if (values[column] == 0) continue;
      Rect bar;
      bar.x0 = column + 0.2;
      bar.x1 = column + 0.8;
      bar.y0 = stacked[column];
      bar.y1 = stacked[column] + static_cast<double>(values[column]) / unit.divisor;
      stacked[column] = bar.y1;
      bar.value = static_cast<double>(values[column]);
      bar.fill = Color::from_rgb(part.rgb);
      bar.column = column;
      bar.tooltip = std::string(part.name) + ": " + short_number(bar.value, unit_for(bar.value)) +
                    " (" + std::to_string(values[column]) + ")";
      figure.bars.push_back(std::move(bar));
    }
  }
  for (int column = 0; column < 2; ++column) {
    figure.annotations.push_back({column + 0.5, stacked[column],
                                  short_number(stacked[column] * unit.divisor, unit), Anchor::Above,
                                  std::nullopt});
  }
  return figure;
}

Figure flops_figure(const ComputeEstimate& estimate) {
  Figure figure;
  const Unit unit = unit_for(std::max(estimate.dense_flops, 1.0));
  figure.title = "Compute per token at context " + std::to_string(estimate.context);
  if (estimate.dense_flops > 0) {
    figure.notes.push_back("this MoE needs " +
                           format_number(100.0 * estimate.moe_flops / estimate.dense_flops, 1) +
                           "% of the FLOPs of a dense model with the same total parameters");
  }
  figure.x.min = 0;
  figure.x.max = 2;
  figure.x.ticks = category_ticks({"this MoE", "dense, same size"});
  figure.y.label = std::string("FLOPs per token") +
                   (unit.suffix[0] ? std::string(" (") + unit.suffix + ")" : "");
  figure.y.min = 0;
  figure.y.max = nice_ceiling(estimate.dense_flops / unit.divisor * 1.1);
  figure.y.ticks = nice_ticks(0, figure.y.max, 5);
  figure.y.grid = true;
  const double values[2] = {estimate.moe_flops, estimate.dense_flops};
  const uint32_t colors[2] = {0xCC6677, 0x999999};
  for (int column = 0; column < 2; ++column) {
    Rect bar;
    bar.x0 = column + 0.25;
    bar.x1 = column + 0.75;
    bar.y1 = values[column] / unit.divisor;
    bar.value = values[column];
    bar.fill = Color::from_rgb(colors[column]);
    bar.column = column;
    bar.tooltip =
        short_number(values[column], unit) + " FLOPs per token\n(attention over the context: " +
        short_number(estimate.attention_flops, unit_for(estimate.attention_flops)) + " FLOPs)";
    figure.bars.push_back(bar);
    figure.annotations.push_back({column + 0.5, bar.y1,
                                  short_number(values[column], unit) + " FLOPs", Anchor::Above,
                                  std::nullopt});
  }
  return figure;
}

}  // namespace moe::plot
