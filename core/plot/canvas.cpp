#include "moe/plot/canvas.hpp"

namespace moe::plot {

namespace {

// Sends each kind of primitive to the canvas's function for it.
struct Dispatch {
  Canvas& canvas;
  void operator()(const FillRect& p) const { canvas.fill(p); }
  void operator()(const StrokeRect& p) const { canvas.stroke(p); }
  void operator()(const Polyline& p) const { canvas.polyline(p); }
  void operator()(const Circle& p) const { canvas.circle(p); }
  void operator()(const TextRun& p) const { canvas.text(p); }
  void operator()(const Gradient& p) const { canvas.gradient(p); }
};

}  // namespace

void Canvas::draw(const Primitive& primitive) { std::visit(Dispatch{*this}, primitive); }

void Canvas::draw(const std::vector<Primitive>& primitives) {
  for (const Primitive& primitive : primitives) draw(primitive);
}

}  // namespace moe::plot
