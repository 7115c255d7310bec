// seedchip — a self-contained HTML page with SVG figures (the --report of
// `seedchip explore`, `plan` and `analyze`): scatter/line charts on linear or
// log axes, stacked bars and tables, inline CSS and a small inline script that
// checks every figure rendered. No network access is needed to view it, and
// the same inputs give the same bytes.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace seedchip::report::svg {

/// Escapes text for HTML and SVG (&, <, >, ", ').
std::string escape(const std::string& s);

/// One series of a chart.
struct Series {
  enum class Style { points, line, step };
  std::string name;
  std::vector<double> x, y;
  std::vector<std::string> labels;  ///< per point (tooltips), optional
  Style style = Style::points;
  bool highlight = false;           ///< drawn bold (a Pareto front, the chosen design)
};

/// An axis.
struct Axis {
  Axis(std::string l = "", bool lg = false) : label(std::move(l)), log(lg) {}
  std::string label;
  bool log = false;
  std::optional<double> min, max;  ///< fixed ends (default: the data's, widened to round ticks)
};

/// A chart of series over two axes.
struct Chart {
  std::string id, title, caption;
  Axis x, y;
  std::vector<Series> series;
  /// Reference lines y = a * x (a roofline's bandwidth slope) capped at b: {name, a, b}.
  struct Roof {
    std::string name;
    double slope = 0, cap = 0;
  };
  std::vector<Roof> roofs;
};

/// Round tick values covering [lo, hi] (about `n` of them; log axes: powers of ten and 2, 5 between).
std::vector<double> ticks(double lo, double hi, bool log, int n = 6);

/// The chart as an <svg class="figure" data-figure="ID"> element. Points that
/// cannot be drawn (NaN, infinite, non-positive on a log axis) are left out
/// and counted in a note under the chart.
std::string chart_svg(const Chart& c);

/// Stacked bars: one bar per category, one stack segment per named part.
struct Bars {
  std::string id, title, caption, unit;
  std::vector<std::string> categories;
  std::vector<std::pair<std::string, std::vector<double>>> parts;  ///< part name -> value per category
};
std::string bars_svg(const Bars& b);

/// A table (cells are escaped).
std::string table_html(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                       const std::string& caption = "");

/// A page of headings, paragraphs, figures and tables.
class Page {
 public:
  explicit Page(std::string title) : title_(std::move(title)) {}
  void heading(const std::string& text);
  void paragraph(const std::string& text);
  /// Raw HTML (a figure from chart_svg / bars_svg, a table from table_html).
  void raw(const std::string& html);
  /// Wraps `svg` in a <figure> with its caption.
  void figure(const std::string& svg, const std::string& caption = "");
  std::string html() const;
  /// Writes DIR/index.html (DIR created); returns the path. Throws std::runtime_error.
  std::string write(const std::string& dir) const;
  size_t figures() const { return figures_; }

 private:
  std::string title_, body_;
  size_t figures_ = 0;
};

}  // namespace seedchip::report::svg
