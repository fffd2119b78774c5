#pragma once
// What the figure layout (moe/plot/layout.hpp) draws with: a handful of primitives in canvas
// units (pixels on screen, points on paper) from the top-left corner, and the Canvas that
// measures text in its own font and draws them. Canvases: cairo (PNG, PDF) and SVG in core/plot,
// ImGui's draw list in the app.
#include <string>
#include <variant>
#include <vector>

#include "moe/plot/figure.hpp"

namespace moe::plot {

enum class TextStyle { Body, Title };
enum class TextAlign { Left, Center, Right };
// What a filled rectangle stands for, so that a canvas can tag it (SVG classes).
enum class Mark { None, Bar, Cell };

struct Point {
  double x = 0, y = 0;
  bool operator==(const Point&) const = default;
};

// An axis-aligned box, x0 <= x1 and y0 <= y1.
struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
  // Half-open, so that boxes meeting edge to edge never both contain a point.
  bool contains(Point p) const { return p.x >= x0 && p.x < x1 && p.y >= y0 && p.y < y1; }
  bool intersects(const Box& other) const {
    return x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1;
  }
  bool operator==(const Box&) const = default;
};

struct FillRect {
  Box box;
  Color color;
  Mark mark = Mark::None;
  int row = -1, column = -1;  // of the figure's Rect, for Mark::Bar and Mark::Cell
  bool operator==(const FillRect&) const = default;
};

struct StrokeRect {
  Box box;  // the stroke is centred on the box's edges
  Color color;
  double width = 1;
  bool operator==(const StrokeRect&) const = default;
};

struct Polyline {
  std::vector<Point> points;
  Color color;
  double width = 1;
  double dash = 0, gap = 0;  // dash > 0: dashed, the pattern running on across the corners
  bool operator==(const Polyline&) const = default;
};

struct Circle {
  Point center;
  double radius = 1;
  Color color;
  bool operator==(const Circle&) const = default;
};

// One line of text. `at` lies on the top edge of the line: its left end, centre or right end as
// `align` says. A non-zero angle rotates the text about `at`, counter-clockwise for positive
// values (90: reads upwards, the line extending to the right of `at`).
struct TextRun {
  Point at;
  std::string text;  // valid UTF-8 without control characters (the layout cleans it)
  Color color;
  TextStyle style = TextStyle::Body;
  TextAlign align = TextAlign::Left;
  double angle_degrees = 0;
  bool operator==(const TextRun&) const = default;
};

// A vertical gradient through `stops`, evenly spaced, the first at the bottom.
struct Gradient {
  Box box;
  std::vector<Color> stops;
  bool operator==(const Gradient&) const = default;
};

using Primitive = std::variant<FillRect, StrokeRect, Polyline, Circle, TextRun, Gradient>;

// Text measured in the canvas's own font, in canvas units.
class TextMetrics {
public:
  virtual ~TextMetrics() = default;
  virtual double text_width(const std::string& text, TextStyle style) = 0;
  // Of the font itself (not of one string), so that lines of different text align alike.
  virtual double ascent(TextStyle style) = 0;
  virtual double line_height(TextStyle style) = 0;
};

class Canvas : public TextMetrics {
public:
  virtual void fill(const FillRect& rect) = 0;
  virtual void stroke(const StrokeRect& rect) = 0;
  virtual void polyline(const Polyline& line) = 0;
  virtual void circle(const Circle& circle) = 0;
  virtual void text(const TextRun& run) = 0;
  virtual void gradient(const Gradient& gradient) = 0;

  void draw(const Primitive& primitive);
  void draw(const std::vector<Primitive>& primitives);
};

}  // namespace moe::plot
