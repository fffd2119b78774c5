#include "moe/plot/layout.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "figure_text.hpp"

namespace moe::plot {

namespace {

template <typename Accept>
const HitRegion* topmost(const std::vector<HitRegion>& hits, Point p, Accept accept) {
  for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
    if (accept(*it) && it->box.contains(p)) return &*it;
  }
  return nullptr;
}

}  // namespace

const HitRegion* FigureLayout::hit_at(Point p) const {
  return topmost(hits, p, [](const HitRegion&) { return true; });
}

const HitRegion* FigureLayout::mark_at(Point p) const {
  return topmost(hits, p, [](const HitRegion& region) {
    return region.kind == HitKind::Bar || region.kind == HitKind::Cell;
  });
}

namespace {

using detail::clean_text;
using detail::shorten;

// Long token labels on the axes are cut to stay readable.
constexpr size_t kMaxTickBytes = 18;

// Maps data coordinates onto the plot area.
struct Mapping {
  Box plot;
  const Axis* x = nullptr;
  const Axis* y = nullptr;

  double px(double value) const {
    const double span = x->max - x->min;
    const double t = span != 0 ? (value - x->min) / span : 0;
    return x->reversed ? plot.x1 - t * plot.width() : plot.x0 + t * plot.width();
  }
  double py(double value) const {
    const double span = y->max - y->min;
    const double t = span != 0 ? (value - y->min) / span : 0;
    return y->reversed ? plot.y0 + t * plot.height() : plot.y1 - t * plot.height();
  }
  Point point(double x_value, double y_value) const { return {px(x_value), py(y_value)}; }
  Box box(const Rect& r) const {
    const double a = px(r.x0), b = px(r.x1), c = py(r.y0), d = py(r.y1);
    return {std::min(a, b), std::min(c, d), std::max(a, b), std::max(c, d)};
  }
};

// An operator standing alone between spaces joins its neighbours into one formula.
bool is_operator(const std::string& word) {
  static const char* const kOperators[] = {"=",
                                           "/",
                                           "+",
                                           "-",
                                           "x",
                                           "*",
                                           "<",
                                           ">",
                                           "<=",
                                           ">=",
                                           "\xC3\x97",
                                           "\xC2\xB7",
                                           "\xE2\x89\x88",
                                           "\xE2\x86\x92",
                                           "->"};
  for (const char* op : kOperators)
    if (word == op) return true;
  return false;
}

// The words of `text` split at single spaces (runs of spaces leave empty words), with every
// formula ("top-k / E = 0.25") joined into one word so that a line never breaks inside it.
std::vector<std::string> unbreakable_words(const std::string& text) {
  std::vector<std::string> words;
  std::string previous;  // the last single word appended
  for (size_t start = 0;;) {
    const size_t space = text.find(' ', start);
    std::string word =
        text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (!words.empty() && !word.empty() && !previous.empty() &&
        (is_operator(previous) || is_operator(word))) {
      words.back() += " " + word;
    } else {
      words.push_back(word);
    }
    previous = std::move(word);
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return words;
}

class Layout {
public:
  Layout(TextMetrics& metrics, const LayoutOptions& options, FigureLayout& out)
      : metrics_(metrics), options_(options), palette_(options.palette), out_(out) {
    line_height_ = metrics_.line_height(TextStyle::Body);
    pad_ = std::round(line_height_ * options_.margin);
    // Lines keep their weight relative to the text as the font grows (projectors, print).
    stroke_ = std::max(options_.thin_line, line_height_ / 16);
    dash_ = line_height_ * 7 / 16;
    dash_gap_ = line_height_ * 5 / 16;
    outline_ = options_.thin_line * 2.5;
  }

  void run(const Figure& figure);

private:
  double text_width(const std::string& text) { return metrics_.text_width(text, TextStyle::Body); }
  void put(Point at, std::string text, const Color& color, TextAlign align = TextAlign::Left,
           TextStyle style = TextStyle::Body, double angle_degrees = 0) {
    if (text.empty()) return;
    out_.primitives.push_back(TextRun{at, std::move(text), color, style, align, angle_degrees});
  }
  void segment(Point a, Point b, const Color& color, double width) {
    out_.primitives.push_back(Polyline{{a, b}, color, width});
  }
  void hit(HitKind kind, const Box& box, size_t index, size_t point = 0) {
    out_.hits.push_back({kind, box, index, point});
  }
  // Edges count as inside, so that a zero-height bar keeps its value label.
  bool shown(const Box& box) const {
    const Box area = options_.visible.value_or(Box{0, 0, out_.width, out_.height});
    return box.x1 >= std::max(area.x0, 0.0) && box.x0 <= std::min(area.x1, out_.width) &&
           box.y1 >= std::max(area.y0, 0.0) && box.y0 <= std::min(area.y1, out_.height);
  }

  double header(const Figure& figure);
  double wrapped(double x, double top, const std::string& text, const Color& color, double width,
                 TextStyle style);
  double legend_sample_width(const LegendEntry& entry) const;
  void legend_sample(const LegendEntry& entry, double x, double middle);
  double legend(const Figure& figure, double x, double top, double width, bool draw);
  double legend_column_width(const Figure& figure);
  void legend_column(const Figure& figure, double x, double top, double width);
  static constexpr size_t kMaxScaleLabelLines = 3;
  double color_scale_width(const Figure& figure, size_t label_lines);
  std::vector<std::string> color_scale_label(const ColorScale& scale, double room,
                                             size_t max_lines = kMaxScaleLabelLines);
  void y_ticks(const Figure& figure, const Mapping& map);
  void cross(const Box& box);
  void rects(const std::vector<Rect>& rects, Mark mark, const Mapping& map);
  void cell_labels(bool backed);
  void lines(const Figure& figure, const Mapping& map);
  void annotations(const Figure& figure, const Mapping& map);
  struct XTicks {
    std::vector<std::string> labels;
    size_t stride = 1;     // every stride-th label is drawn
    bool upright = false;  // turned to read upwards
    double height = 0;     // what they take below the axis
  };
  XTicks plan_x_ticks(const Figure& figure, double x0, double x1);
  void x_axis(const Figure& figure, const Mapping& map, const XTicks& plan);
  void color_scale(const ColorScale& scale, const Mapping& map, size_t label_lines);

  TextMetrics& metrics_;
  const LayoutOptions& options_;
  const Palette& palette_;
  FigureLayout& out_;
  double line_height_ = 12, pad_ = 7, stroke_ = 1, dash_ = 5, dash_gap_ = 4;
  double outline_ = 2;          // the thickest outline of an emphasised mark
  bool legend_beside_ = false;  // the legend is a column right of the plot (compact layouts)
  // Cell labels wait until the lines are drawn, so that no line crosses their letters.
  struct CellLabel {
    TextRun run;
    Box patch;     // behind the text, in the cell's colour
    Color colour;  // the cell's colour as drawn (its alpha over the background)
  };
  std::vector<CellLabel> cell_labels_;
};

// Word-wraps `text` to `width`; returns the height used. Words split at single spaces, so that
// runs of spaces (which separate figures in notes) survive on a line; a wrapped line starts at
// its first word. A formula ("1/E = 12.5%") stays on one line.
double Layout::wrapped(double x, double top, const std::string& text, const Color& color,
                       double width, TextStyle style) {
  const double line_height = metrics_.line_height(style);
  const std::vector<std::string> words = unbreakable_words(text);
  double y = top;
  std::string line;
  bool line_started = false;
  const auto flush = [&] {
    put({x, y}, line, color, TextAlign::Left, style);
    y += line_height + 1;
    line.clear();
    line_started = false;
  };
  for (const std::string& word : words) {
    if (!line_started) {
      if (word.empty()) continue;
      line = word;
      line_started = true;
      continue;
    }
    const std::string candidate = line + " " + word;
    if (!word.empty() && metrics_.text_width(candidate, style) > width) {
      flush();
      line = word;
      line_started = true;
    } else {
      line = candidate;
    }
  }
  if (line_started) flush();
  return y - top;
}

// The width of an entry's sample (a line sample is longer than a square).
double Layout::legend_sample_width(const LegendEntry& entry) const {
  return line_height_ * 0.8 * (entry.line ? 1.6 : 1);
}

// The sample of one legend entry, its left end at `x`, centred on `middle`.
void Layout::legend_sample(const LegendEntry& entry, double x, double middle) {
  const double sample = line_height_ * 0.8;
  const Color color = entry.color.value_or(palette_.text);
  if (entry.line) {
    // A little heavier than the plot's lines, so that its colour reads at a glance.
    out_.primitives.push_back(Polyline{{{x, middle}, {x + legend_sample_width(entry), middle}},
                                       color,
                                       (entry.dashed ? 2 : 2.5) * stroke_,
                                       entry.dashed ? dash_ : 0,
                                       dash_gap_});
    return;
  }
  // What the entry's marks look like: filled in their colour, or (outlined or crossed marks
  // keep their own colours) only the outline or the cross.
  const Box box{x, middle - sample / 2, x + sample, middle + sample / 2};
  const bool marking = entry.outlined || entry.crossed;
  if (entry.color || !marking) out_.primitives.push_back(FillRect{box, color});
  if (entry.outlined) {
    const double inset = outline_ / 2;
    out_.primitives.push_back(StrokeRect{
        {box.x0 + inset, box.y0 + inset, box.x1 - inset, box.y1 - inset}, palette_.text, outline_});
  } else {
    out_.primitives.push_back(StrokeRect{box, palette_.text, options_.thin_line});
  }
  if (entry.crossed) cross(box);
}

// Legend entries in rows from `origin_x`; returns the height used. With `draw` false only
// measures.
double Layout::legend(const Figure& figure, double origin_x, double top, double width, bool draw) {
  if (figure.legend.empty()) return 0;
  const double gap = options_.compact ? line_height_ * 0.6 : line_height_;
  const double row = options_.compact ? line_height_ : line_height_ + 2;
  double x = origin_x, y = top;
  for (size_t i = 0; i < figure.legend.size(); ++i) {
    const LegendEntry& entry = figure.legend[i];
    const std::string label = clean_text(entry.label);
    const double sample_width = legend_sample_width(entry);
    const double entry_width = sample_width + 6 + text_width(label);
    if (x > origin_x && x + entry_width > origin_x + width) {
      x = origin_x;
      y += row;
    }
    if (draw) {
      legend_sample(entry, x, y + line_height_ / 2);
      put({x + sample_width + 6, y}, label, palette_.dim_text);
      hit(HitKind::LegendEntry, {x, y, x + entry_width, y + line_height_}, i);
    }
    x += entry_width + gap;
  }
  return y + line_height_ - top;
}

// The width of the legend as a column right of the plot (labels wrap within it).
double Layout::legend_column_width(const Figure& figure) {
  double widest = 0;
  for (const LegendEntry& entry : figure.legend) {
    widest = std::max(widest, legend_sample_width(entry) + 6 + text_width(clean_text(entry.label)));
  }
  return std::min(widest, out_.width * 0.4);
}

// Legend entries one under the other from (x, top), each label wrapped to the column.
void Layout::legend_column(const Figure& figure, double x, double top, double width) {
  double y = top;
  for (size_t i = 0; i < figure.legend.size(); ++i) {
    const LegendEntry& entry = figure.legend[i];
    const double sample_width = legend_sample_width(entry);
    legend_sample(entry, x, y + line_height_ / 2);
    const double height = wrapped(x + sample_width + 6, y, clean_text(entry.label),
                                  palette_.dim_text, width - sample_width - 6, TextStyle::Body);
    hit(HitKind::LegendEntry, {x, y, x + width, y + height}, i);
    y += height + line_height_ * 0.3;
  }
}

// Title, notes, legend and the y axis label; returns where the plot area may start.
double Layout::header(const Figure& figure) {
  double top = pad_;
  const double text_space = out_.width - 2 * pad_;
  if (!figure.title.empty()) {
    top += wrapped(pad_, top, clean_text(figure.title), palette_.text,
                   text_space - options_.title_reserve, TextStyle::Title) +
           2;
  }
  for (const std::string& note : figure.notes)
    top += wrapped(pad_, top, clean_text(note), palette_.dim_text, text_space, TextStyle::Body);
  // On paper a legend of several rows, or one that would make the header take more than a
  // sixth of the figure, crowds the plot out: it goes beside the plot.
  if (options_.compact && !figure.legend.empty()) {
    const double rows = legend(figure, pad_, top + 2, text_space, false);
    legend_beside_ = rows > line_height_ * 1.5 || top + 2 + rows > out_.height / 6;
  }
  if (!legend_beside_) top += legend(figure, pad_, top + 2, text_space, true);
  top += pad_;
  if (!figure.y.label.empty()) {
    put({pad_, top}, clean_text(figure.y.label), palette_.dim_text);
    top += line_height_ + 2;
  }
  return top;
}

// The room the colour scale takes right of the plot: gradient, tick labels, its label's lines.
double Layout::color_scale_width(const Figure& figure, size_t label_lines) {
  if (!figure.color_scale || figure.color_scale->stops.size() < 2) return 0;
  double tick_width = 0;
  for (const Tick& tick : figure.color_scale->ticks)
    tick_width = std::max(tick_width, text_width(clean_text(tick.label)));
  double width = line_height_ + 6 + tick_width + 2 * pad_;
  if (label_lines > 0) width += static_cast<double>(label_lines) * line_height_ + 4;
  return width;
}

// The colour scale's label in lines of at most `room` (the bar's height; beyond it a scrolled
// view or a short page would cut the label), wrapped at spaces into at most `max_lines` lines; a
// line that still does not fit is shortened.
std::vector<std::string> Layout::color_scale_label(const ColorScale& scale, double room,
                                                   size_t max_lines) {
  std::vector<std::string> lines;
  std::istringstream words(clean_text(scale.label));
  for (std::string word; words >> word;) {
    if (!lines.empty() &&
        (lines.size() >= max_lines || text_width(lines.back() + " " + word) <= room))
      lines.back() += " " + word;
    else
      lines.push_back(word);
  }
  for (std::string& line : lines) {
    const std::string whole = line;
    for (size_t bytes = whole.size(); bytes > 1 && text_width(line) > room;)
      line = shorten(whole, --bytes);
  }
  return lines;
}

// Grid lines and y ticks; labels thinned out where rows are closer than a line of text.
void Layout::y_ticks(const Figure& figure, const Mapping& map) {
  const std::vector<Tick>& ticks = figure.y.ticks;
  const double row_pitch =
      ticks.size() > 1 ? std::abs(map.py(ticks[1].value) - map.py(ticks[0].value)) : line_height_;
  const auto stride =
      static_cast<size_t>(std::max(1.0, std::ceil(line_height_ / std::max(row_pitch, 0.5))));
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double y = map.py(ticks[i].value);
    if (figure.y.grid)
      segment({map.plot.x0, y}, {map.plot.x1, y}, palette_.grid, options_.thin_line);
    if (i % stride != 0) continue;
    segment({map.plot.x0 - 4, y}, {map.plot.x0, y}, palette_.axis, options_.thin_line);
    put({map.plot.x0 - 6, y - line_height_ / 2}, shorten(clean_text(ticks[i].label), kMaxTickBytes),
        palette_.dim_text, TextAlign::Right);
  }
}

// Bars or cells with their text, then the outlines that mark some of them (drawn after all
// fills so that a neighbour never covers one).
void Layout::rects(const std::vector<Rect>& rects, Mark mark, const Mapping& map) {
  const bool cells = mark == Mark::Cell;
  const HitKind kind = cells ? HitKind::Cell : HitKind::Bar;
  const auto label_fits = [&](double width, const Box& box) {
    return width + 4 <= box.width() && line_height_ <= box.height();
  };
  // When some cell's label does not fit, every cell drops its unit ("45%" -> "45"; the colour
  // bar's ticks keep it), so that narrow cells keep their numbers and all cells read alike.
  bool drop_unit = false;
  for (const Rect& r : rects) {
    if (cells && !r.text.empty() && shown(map.box(r)) &&
        !label_fits(text_width(clean_text(r.text)), map.box(r)))
      drop_unit = true;
  }
  for (size_t i = 0; i < rects.size(); ++i) {
    const Rect& r = rects[i];
    const Box box = map.box(r);
    if (!shown(box)) continue;
    // A muted bar (an expert not chosen) keeps its hue but never fades into the background.
    const Color fill = !cells && r.fill.a < 1 ? muted_bar_color(r.fill, palette_) : r.fill;
    out_.primitives.push_back(FillRect{box, fill, mark, r.row, r.column});
    hit(kind, box, i);
    if (r.text.empty()) continue;
    std::string text = clean_text(r.text);
    if (cells && drop_unit && text.ends_with('%')) text.pop_back();
    const double width = text_width(text);
    if (cells) {
      if (label_fits(width, box)) {
        const Point at{(box.x0 + box.x1) / 2, (box.y0 + box.y1 - line_height_) / 2};
        const double margin = std::max(2.0, line_height_ / 3);  // keeps a line off the digits
        const Box patch{std::max(box.x0 + outline_, at.x - width / 2 - margin), at.y,
                        std::min(box.x1 - outline_, at.x + width / 2 + margin),
                        at.y + line_height_};
        cell_labels_.push_back(
            {TextRun{at, std::move(text), text_color_on(r.fill, palette_.background),
                     TextStyle::Body, TextAlign::Center},
             patch, mix(palette_.background, r.fill.with_alpha(1), r.fill.a)});
      }
    } else if (width <= box.width() * 1.3) {
      put({(box.x0 + box.x1) / 2, box.y0 - line_height_ - 1}, std::move(text), palette_.dim_text,
          TextAlign::Center);
    }
  }
  for (const Rect& r : rects) {
    if (!r.outlined && !r.crossed) continue;
    const Box box = map.box(r);
    if (!shown(box)) continue;
    if (r.crossed) cross(box);
    if (!r.outlined) continue;
    const double thickness =
        std::clamp(std::min(box.width(), box.height()) / 8, options_.thin_line, outline_);
    const double inset = thickness / 2;
    out_.primitives.push_back(
        StrokeRect{{box.x0 + inset, box.y0 + inset, box.x1 - inset, box.y1 - inset},
                   palette_.text,
                   thickness});
  }
}

// Strikes out a mark (e.g. a choice dropped for capacity): its two diagonals, inside its box.
void Layout::cross(const Box& box) {
  const double width = options_.thin_line * 1.5;
  const double inset = std::min({width, box.width() / 4, box.height() / 4});
  const Box in{box.x0 + inset, box.y0 + inset, box.x1 - inset, box.y1 - inset};
  segment({in.x0, in.y0}, {in.x1, in.y1}, palette_.text, width);
  segment({in.x0, in.y1}, {in.x1, in.y0}, palette_.text, width);
}

// The cells' labels, over the lines; where lines are drawn, each on a patch of its cell's colour
// so that a line running through the cell stops short of the letters.
void Layout::cell_labels(bool backed) {
  for (CellLabel& label : cell_labels_) {
    if (backed) out_.primitives.push_back(FillRect{label.patch, label.colour});
    out_.primitives.push_back(std::move(label.run));
  }
  cell_labels_.clear();
}

void Layout::lines(const Figure& figure, const Mapping& map) {
  for (size_t index = 0; index < figure.lines.size(); ++index) {
    const Line& line = figure.lines[index];
    const Color color = line.color.value_or(palette_.text);
    const double thickness = line.width * stroke_;
    std::vector<Point> points;
    for (size_t i = 0; i < line.xs.size() && i < line.ys.size(); ++i)
      points.push_back(map.point(line.xs[i], line.ys[i]));
    if (points.size() >= 2) {
      out_.primitives.emplace_back(
          Polyline{points, color, thickness, line.dashed ? dash_ : 0, dash_gap_});
    }
    if (!line.markers) continue;
    const double radius = thickness * 1.3;
    const double reach = std::max(radius * 2, line_height_ / 4);  // easy to point at
    for (size_t i = 0; i < points.size(); ++i) {
      const Point p = points[i];
      out_.primitives.emplace_back(Circle{p, radius, color});
      hit(HitKind::Point, {p.x - reach, p.y - reach, p.x + reach, p.y + reach}, index, i);
    }
  }
}

void Layout::annotations(const Figure& figure, const Mapping& map) {
  for (const Annotation& note : figure.annotations) {
    std::string text = clean_text(note.text);
    const Color color = note.color.value_or(palette_.text);
    const Point at = map.point(note.x, note.y);
    const double middle = at.y - line_height_ / 2;
    switch (note.anchor) {
      case Anchor::Center:
        put({at.x, middle}, std::move(text), color, TextAlign::Center);
        break;
      case Anchor::Left:
        put({at.x + 4, middle}, std::move(text), color, TextAlign::Left);
        break;
      case Anchor::Right:
        put({at.x - 4, middle}, std::move(text), color, TextAlign::Right);
        break;
      case Anchor::Above:
        put({at.x, at.y - line_height_ - 2}, std::move(text), color, TextAlign::Center);
        break;
      case Anchor::Below:
        put({at.x, at.y + 2}, std::move(text), color, TextAlign::Center);
        break;
    }
  }
}

// Axes, x ticks (labels thinned out where they would overlap) and the x label.
void Layout::x_axis(const Figure& figure, const Mapping& map, const XTicks& plan) {
  const Box& plot = map.plot;
  segment({plot.x0, plot.y0}, {plot.x0, plot.y1}, palette_.axis, options_.thin_line);
  segment({plot.x0, plot.y1}, {plot.x1, plot.y1}, palette_.axis, options_.thin_line);
  const std::vector<Tick>& ticks = figure.x.ticks;
  for (size_t i = 0; i < ticks.size() && i < plan.labels.size(); i += plan.stride) {
    const double x = map.px(ticks[i].value);
    segment({x, plot.y1}, {x, plot.y1 + 4}, palette_.axis, options_.thin_line);
    if (plan.upright) {
      // Reading upwards, ending at the tick.
      put({x - line_height_ / 2, plot.y1 + 4}, plan.labels[i], palette_.dim_text, TextAlign::Right,
          TextStyle::Body, 90);
    } else {
      put({x, plot.y1 + 4}, plan.labels[i], palette_.dim_text, TextAlign::Center);
    }
  }
  if (!figure.x.label.empty()) {
    put({(plot.x0 + plot.x1) / 2, plot.y1 + 4 + plan.height + 2}, clean_text(figure.x.label),
        palette_.dim_text, TextAlign::Center);
  }
}

// How the x tick labels fit between `x0` and `x1`: level where they fit side by side; short
// labels (expert names) that do not are turned upright so that every one still shows; longer
// ones are thinned out.
Layout::XTicks Layout::plan_x_ticks(const Figure& figure, double x0, double x1) {
  XTicks plan;
  const std::vector<Tick>& ticks = figure.x.ticks;
  if (ticks.empty()) return plan;
  double widest = 0;
  for (const Tick& tick : ticks) {
    plan.labels.push_back(shorten(clean_text(tick.label), kMaxTickBytes));
    widest = std::max(widest, text_width(plan.labels.back()));
  }
  Mapping map;
  map.x = &figure.x;
  map.y = &figure.y;
  map.plot = {x0, 0, x1, 1};
  const double pitch =
      ticks.size() > 1 ? std::abs(map.px(ticks[1].value) - map.px(ticks[0].value)) : widest + 8;
  plan.height = line_height_;
  if (widest + 8 > pitch && widest <= 4 * line_height_ && line_height_ + 2 <= pitch) {
    plan.upright = true;
    plan.height = widest;
  } else {
    plan.stride =
        static_cast<size_t>(std::max(1.0, std::ceil((widest + 8) / std::max(pitch, 1.0))));
  }
  return plan;
}

// A vertical gradient beside the plot, ticks on its right, then its label reading upwards.
// `label_lines`: the lines run() made room for (a bar that came out shorter gets no more).
void Layout::color_scale(const ColorScale& scale, const Mapping& map, size_t label_lines) {
  const double x0 = map.plot.x1 + pad_ * 2, x1 = x0 + line_height_;
  const double top = std::max(map.plot.y0, pad_);
  const double bottom = std::min(map.plot.y1, out_.height - pad_);
  const Box bar{x0, top, x1, bottom};
  out_.primitives.push_back(Gradient{bar, scale.stops});
  out_.primitives.push_back(StrokeRect{bar, palette_.axis, options_.thin_line});
  double tick_width = 0;
  for (const Tick& tick : scale.ticks) {
    if (scale.max <= scale.min) break;
    const double t = (tick.value - scale.min) / (scale.max - scale.min);
    const double y = bottom - t * (bottom - top);
    std::string label = clean_text(tick.label);
    tick_width = std::max(tick_width, text_width(label));
    segment({x1, y}, {x1 + 3, y}, palette_.axis, options_.thin_line);
    put({x1 + 5, y - line_height_ / 2}, std::move(label), palette_.dim_text);
  }
  // The label reads upwards, centred on the bar; its first line is the leftmost.
  double x = x1 + 5 + tick_width + 4;
  for (std::string& line : color_scale_label(scale, bottom - top, label_lines)) {
    put({x, (top + bottom) / 2}, std::move(line), palette_.dim_text, TextAlign::Center,
        TextStyle::Body, 90);
    x += line_height_;
  }
}

void Layout::run(const Figure& figure) {
  out_.primitives.push_back(FillRect{{0, 0, out_.width, out_.height}, palette_.background});
  const double top = header(figure);

  double y_label_width = 0;
  for (const Tick& tick : figure.y.ticks) {
    y_label_width =
        std::max(y_label_width, text_width(shorten(clean_text(tick.label), kMaxTickBytes)));
  }
  const double legend_width = legend_beside_ ? legend_column_width(figure) : 0;
  const double left = pad_ + y_label_width + 6;
  Mapping map;
  map.x = &figure.x;
  map.y = &figure.y;
  XTicks x_ticks;
  // The plot's box, leaving room for a colour-scale label of `label_lines` lines.
  const auto place_plot = [&](size_t label_lines) {
    const double right = out_.width - pad_ - color_scale_width(figure, label_lines) -
                         (legend_beside_ ? legend_width + pad_ : 0);
    x_ticks = plan_x_ticks(figure, left, right);
    const double bottom_reserved = (figure.x.ticks.empty() ? 0 : x_ticks.height + 4) +
                                   (figure.x.label.empty() ? 0 : line_height_ + 2) + pad_;
    map.plot = {left, top + line_height_ * 0.5, right, out_.height - bottom_reserved};
  };
  const bool scale_label = figure.color_scale && figure.color_scale->stops.size() >= 2 &&
                           !figure.color_scale->label.empty();
  size_t label_lines = scale_label ? 1 : 0;
  place_plot(label_lines);
  // A label longer than the bar wraps (color_scale_label): make room for its lines.
  if (scale_label) {
    label_lines = color_scale_label(*figure.color_scale, map.plot.height()).size();
    if (label_lines > 1) place_plot(label_lines);
  }
  out_.plot = map.plot;
  if (map.plot.width() < 10 || map.plot.height() < 10) {
    out_.fits = false;
    return;
  }

  y_ticks(figure, map);
  rects(figure.cells, Mark::Cell, map);
  rects(figure.bars, Mark::Bar, map);
  lines(figure, map);
  cell_labels(!figure.lines.empty());
  annotations(figure, map);
  x_axis(figure, map, x_ticks);
  if (figure.color_scale && figure.color_scale->stops.size() >= 2)
    color_scale(*figure.color_scale, map, label_lines);
  if (legend_beside_)
    legend_column(figure, out_.width - pad_ - legend_width, map.plot.y0, legend_width);
}

}  // namespace

FigureLayout lay_out_figure(const Figure& figure, double width, double height, TextMetrics& metrics,
                            const LayoutOptions& options) {
  const auto lay_out = [&](const Figure& shown) {
    FigureLayout layout;
    layout.width = width;
    layout.height = height;
    Layout(metrics, options, layout).run(shown);
    return layout;
  };
  FigureLayout layout = lay_out(figure);
  // Large text on a small canvas (a projector): when the header leaves the plot under four
  // lines of text, the notes go (the chart shows what they summarise), then the legend.
  const double cramped = 4 * metrics.line_height(TextStyle::Body);
  if (layout.plot.height() >= cramped || (figure.notes.empty() && figure.legend.empty()))
    return layout;
  Figure shorter = figure;
  shorter.notes.clear();
  layout = lay_out(shorter);
  layout.notes_dropped = true;
  if (layout.plot.height() >= cramped || shorter.legend.empty()) return layout;
  shorter.legend.clear();
  layout = lay_out(shorter);
  layout.notes_dropped = layout.legend_dropped = true;
  return layout;
}

}  // namespace moe::plot
