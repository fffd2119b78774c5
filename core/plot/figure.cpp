#include "moe/plot/figure.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace moe::plot {

Color Color::from_rgb(uint32_t rgb, float alpha) {
  return {static_cast<float>((rgb >> 16) & 0xFF) / 255.0f,
          static_cast<float>((rgb >> 8) & 0xFF) / 255.0f, static_cast<float>(rgb & 0xFF) / 255.0f,
          alpha};
}

double Color::luminance() const {
  const auto linear = [](double c) {
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

Color mix(const Color& a, const Color& b, double t) {
  const auto f = static_cast<float>(std::clamp(t, 0.0, 1.0));
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f,
          a.a + (b.a - a.a) * f};
}

Color expert_color(int expert) {
  // Okabe & Ito (2008) without black, then Tol's muted scheme: both designed to stay
  // distinguishable under the common colour-vision deficiencies.
  static constexpr std::array<uint32_t, 16> kSafe = {
      0xE69F00, 0x56B4E9, 0x009E73, 0xF0E442, 0x0072B2, 0xD55E00, 0xCC79A7, 0x332288,
      0xCC6677, 0x117733, 0x88CCEE, 0x882255, 0x44AA99, 0x999933, 0xAA4499, 0xDDCC77};
  if (expert < 0) return Color::from_rgb(0x808080);
  const auto index = static_cast<size_t>(expert);
  const Color base = Color::from_rgb(kSafe[index % kSafe.size()]);
  const size_t round = index / kSafe.size();
  if (round == 0) return base;
  // Later rounds alternate lighter / darker, further each time.
  const double amount = std::min(0.6, 0.25 * static_cast<double>((round + 1) / 2));
  const Color towards = (round % 2 == 1) ? Color{1, 1, 1, 1} : Color{0, 0, 0, 1};
  return mix(base, towards, amount);
}

Color ColorScale::at(double value) const {
  if (stops.empty()) return {};
  if (stops.size() == 1 || max <= min) return stops.front();
  const double t = std::clamp((value - min) / (max - min), 0.0, 1.0);
  const double position = t * static_cast<double>(stops.size() - 1);
  const auto index = std::min(static_cast<size_t>(position), stops.size() - 2);
  return mix(stops[index], stops[index + 1], position - static_cast<double>(index));
}

ColorScale viridis_scale(double min, double max, std::string label) {
  ColorScale scale;
  scale.label = std::move(label);
  scale.min = min;
  scale.max = max;
  // Viridis sampled at ten evenly spaced points (the published colour map's values).
  for (uint32_t rgb : {0x440154u, 0x482878u, 0x3E4989u, 0x31688Eu, 0x26828Eu, 0x1F9E89u, 0x35B779u,
                       0x6DCD59u, 0xB4DE2Cu, 0xFDE725u}) {
    scale.stops.push_back(Color::from_rgb(rgb));
  }
  scale.ticks = nice_ticks(min, max, 4);
  return scale;
}

namespace {

double nice_step(double min, double max, int target) {
  const double span = max - min;
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  const double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

int decimals_for_step(double step) {
  if (step >= 1) return 0;
  return std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
}

}  // namespace

std::string format_number(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", std::max(digits, 0), value);
  std::string result = text;
  if (result == "-0" || result.rfind("-0.", 0) == 0) {
    // "-0.00" reads oddly for a value that rounds to zero.
    bool all_zero = true;
    for (char c : result) all_zero &= (c == '-' || c == '0' || c == '.');
    if (all_zero) result.erase(0, 1);
  }
  return result;
}

std::vector<Tick> nice_ticks(double min, double max, int target) {
  std::vector<Tick> ticks;
  if (!(max > min)) {
    ticks.push_back({min, format_number(min, 2)});
    return ticks;
  }
  const double step = nice_step(min, max, target);
  const int digits = decimals_for_step(step);
  const double first = std::ceil(min / step - 1e-9) * step;
  for (int i = 0; i < 1000; ++i) {
    const double value = first + i * step;
    if (value > max + step * 1e-6) break;
    ticks.push_back({value, format_number(value, digits)});
  }
  return ticks;
}

double nice_ceiling(double max) {
  if (!(max > 0)) return 1;
  const double step = nice_step(0, max, 5);
  return std::ceil(max / step - 1e-9) * step;
}

std::vector<Tick> category_ticks(const std::vector<std::string>& labels) {
  std::vector<Tick> ticks;
  ticks.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    ticks.push_back({static_cast<double>(i) + 0.5, labels[i]});
  }
  return ticks;
}

}  // namespace moe::plot
