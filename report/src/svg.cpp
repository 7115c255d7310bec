// seedchip — HTML pages with SVG figures (svg.h).
#include "seedchip/report/svg.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace seedchip::report::svg {

namespace {

// A fixed palette (colour-blind safe: Okabe-Ito) so that pages are byte-stable.
const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"};
const char* colour(size_t i) { return kColours[i % (sizeof(kColours) / sizeof(kColours[0]))]; }

constexpr double kW = 720, kH = 420, kL = 78, kR = 170, kT = 36, kB = 56;  // size and margins (px); legend on the right

std::string num(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.3g}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.4g}", v);
  return fmt::format("{:.3g}", v);
}

std::string px(double v) { return fmt::format("{:.2f}", v); }

bool drawable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

struct Scale {
  double lo = 0, hi = 1, a = 0, b = 1;  // data range -> pixel range [a, b]
  bool log = false;
  double operator()(double v) const {
    const double f = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return a + f * (b - a);
  }
};

// A data range widened so that it is never empty and (linear) includes round ends.
std::pair<double, double> range(std::vector<double> v, bool log, const std::optional<double>& mn, const std::optional<double>& mx) {
  v.erase(std::remove_if(v.begin(), v.end(), [&](double x) { return !drawable(x, log); }), v.end());
  double lo = v.empty() ? (log ? 1 : 0) : *std::min_element(v.begin(), v.end());
  double hi = v.empty() ? (log ? 10 : 1) : *std::max_element(v.begin(), v.end());
  if (mn && drawable(*mn, log)) lo = *mn;
  if (mx && drawable(*mx, log)) hi = *mx;
  if (log) {
    if (hi <= lo) hi = lo * 10;
    lo = std::pow(10, std::floor(std::log10(lo) + 1e-9));
    hi = std::pow(10, std::ceil(std::log10(hi) - 1e-9));
    if (hi <= lo) hi = lo * 10;
  } else {
    if (hi <= lo) {
      const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    const auto t = ticks(lo, hi, false);
    lo = std::min(lo, t.front());
    hi = std::max(hi, t.back());
  }
  return {lo, hi};
}

}  // namespace

std::string escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> ticks(double lo, double hi, bool log, int n) {
  std::vector<double> t;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  if (log) {
    const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9)), e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    const bool fine = e1 - e0 <= 2;
    for (int e = e0; e <= e1; ++e)
      for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
      }
    return t;
  }
  const double raw = (hi - lo) / std::max(1, n - 1);
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  const double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
  for (double v = first; v <= last + step * 1e-6; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

std::string chart_svg(const Chart& c) {
  std::vector<double> xs, ys;
  for (const auto& s : c.series) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  const auto [x0, x1] = range(xs, c.x.log, c.x.min, c.x.max);
  const auto [y0, y1] = range(ys, c.y.log, c.y.min, c.y.max);
  const Scale sx{x0, x1, kL, kW - kR, c.x.log}, sy{y0, y1, kH - kB, kT, c.y.log};
  std::string o = fmt::format(
      "<svg class=\"figure\" data-figure=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">\n",
      escape(c.id), kW, kH, kW, kH, escape(c.title));
  o += fmt::format("<text x=\"{}\" y=\"20\" class=\"title\">{}</text>\n", kL, escape(c.title));
  // grid and ticks
  for (double t : ticks(x0, x1, c.x.log)) {
    const double p = sx(t);
    o += fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/><text class=\"tick\" x=\"{0}\" y=\"{3}\" "
                     "text-anchor=\"middle\">{4}</text>\n",
                     px(p), px(kT), px(kH - kB), px(kH - kB + 16), num(t));
  }
  for (double t : ticks(y0, y1, c.y.log)) {
    const double p = sy(t);
    o += fmt::format("<line class=\"grid\" x1=\"{1}\" x2=\"{2}\" y1=\"{0}\" y2=\"{0}\"/><text class=\"tick\" x=\"{3}\" y=\"{4}\" "
                     "text-anchor=\"end\">{5}</text>\n",
                     px(p), px(kL), px(kW - kR), px(kL - 6), px(p + 4), num(t));
  }
  o += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", px(kL), px(kT), px(kW - kR - kL),
                   px(kH - kB - kT));
  o += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}{}</text>\n", px((kL + kW - kR) / 2), px(kH - 14),
                   escape(c.x.label), c.x.log ? " (log)" : "");
  o += fmt::format("<text class=\"label\" transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}{}</text>\n",
                   px((kT + kH - kB) / 2), escape(c.y.label), c.y.log ? " (log)" : "");
  o += fmt::format("<clipPath id=\"clip-{0}\"><rect x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"{4}\"/></clipPath>\n<g clip-path=\"url(#clip-{0})\">\n",
                   escape(c.id), px(kL), px(kT), px(kW - kR - kL), px(kH - kB - kT));
  // rooflines: min(slope * x, cap) over the x range
  for (size_t r = 0; r < c.roofs.size(); ++r) {
    const auto& f = c.roofs[r];
    if (!(f.slope > 0) || !(f.cap > 0)) continue;
    std::string pts;
    const int n = 64;
    for (int i = 0; i <= n; ++i) {
      const double x = c.x.log ? std::pow(10, std::log10(x0) + (std::log10(x1) - std::log10(x0)) * i / n) : x0 + (x1 - x0) * i / n;
      const double y = std::min(f.slope * x, f.cap);
      if (!drawable(y, c.y.log)) continue;
      pts += fmt::format("{},{} ", px(sx(x)), px(sy(std::clamp(y, y0, y1))));
    }
    o += fmt::format("<polyline class=\"mark roof\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"6 3\" stroke-width=\"1.5\" points=\"{}\"><title>{}</title></polyline>\n",
                     colour(c.series.size() + r), pts, escape(f.name));
  }
  size_t dropped = 0;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& s = c.series[i];
    const size_t n = std::min(s.x.size(), s.y.size());
    std::vector<std::pair<double, double>> p;
    std::vector<size_t> idx;
    for (size_t k = 0; k < n; ++k) {
      if (drawable(s.x[k], c.x.log) && drawable(s.y[k], c.y.log)) {
        p.emplace_back(s.x[k], s.y[k]);
        idx.push_back(k);
      } else {
        ++dropped;
      }
    }
    const char* col = colour(i);
    if (s.style != Series::Style::points && p.size() >= 2) {
      std::string pts;
      for (size_t k = 0; k < p.size(); ++k) {
        if (s.style == Series::Style::step && k > 0) pts += fmt::format("{},{} ", px(sx(p[k].first)), px(sy(p[k - 1].second)));
        pts += fmt::format("{},{} ", px(sx(p[k].first)), px(sy(p[k].second)));
      }
      o += fmt::format("<polyline class=\"mark\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\"><title>{}</title></polyline>\n", col,
                       s.highlight ? 3 : 1.8, pts, escape(s.name));
    }
    if (s.style == Series::Style::points || p.size() < 2)
      for (size_t k = 0; k < p.size(); ++k) {
        const std::string tip = idx[k] < s.labels.size() ? s.labels[idx[k]] : fmt::format("{}: ({}, {})", s.name, num(p[k].first), num(p[k].second));
        o += fmt::format("<circle class=\"mark\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"{}\"><title>{}</title></circle>\n",
                         px(sx(p[k].first)), px(sy(p[k].second)), s.highlight ? 5 : 3.5, col, s.highlight ? 1.0 : 0.65, escape(tip));
      }
  }
  o += "</g>\n";
  // legend
  double ly = kT + 8;
  auto legend = [&](const std::string& name, const char* col, bool dashed) {
    o += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"3\"{4}/><text class=\"legend\" x=\"{5}\" y=\"{6}\">{7}</text>\n",
                     px(kW - kR + 12), px(kW - kR + 30), px(ly), col, dashed ? " stroke-dasharray=\"6 3\"" : "", px(kW - kR + 36), px(ly + 4),
                     escape(name.size() > 22 ? name.substr(0, 21) + "…" : name));
    ly += 18;
  };
  for (size_t i = 0; i < c.series.size(); ++i) legend(c.series[i].name, colour(i), false);
  for (size_t r = 0; r < c.roofs.size(); ++r) legend(c.roofs[r].name, colour(c.series.size() + r), true);
  if (dropped)
    o += fmt::format("<text class=\"note\" x=\"{}\" y=\"{}\">{} point(s) not drawable on these axes left out</text>\n", px(kL), px(kH - 2), dropped);
  o += "</svg>\n";
  return o;
}

std::string bars_svg(const Bars& b) {
  const size_t n = b.categories.size();
  std::vector<double> totals(n, 0);
  for (const auto& [name, v] : b.parts)
    for (size_t i = 0; i < n && i < v.size(); ++i)
      if (std::isfinite(v[i]) && v[i] > 0) totals[i] += v[i];
  const double top = totals.empty() ? 1 : std::max(1e-12, *std::max_element(totals.begin(), totals.end()));
  const auto t = ticks(0, top, false);
  const double ymax = t.back();
  const Scale sy{0, ymax, kH - kB, kT, false};
  std::string o = fmt::format(
      "<svg class=\"figure\" data-figure=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"{}\">\n<text x=\"{}\" y=\"20\" class=\"title\">{}</text>\n",
      escape(b.id), kW, kH, kW, kH, escape(b.title), kL, escape(b.title));
  for (double v : t)
    o += fmt::format("<line class=\"grid\" x1=\"{1}\" x2=\"{2}\" y1=\"{0}\" y2=\"{0}\"/><text class=\"tick\" x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
                     px(sy(v)), px(kL), px(kW - kR), px(kL - 6), px(sy(v) + 4), num(v));
  o += fmt::format("<text class=\"label\" transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", px((kT + kH - kB) / 2),
                   escape(b.unit));
  const double slot = n ? (kW - kR - kL) / static_cast<double>(n) : 1, bw = slot * 0.6;
  for (size_t i = 0; i < n; ++i) {
    const double x = kL + slot * static_cast<double>(i) + (slot - bw) / 2;
    double acc = 0;
    for (size_t k = 0; k < b.parts.size(); ++k) {
      const auto& v = b.parts[k].second;
      const double val = i < v.size() && std::isfinite(v[i]) && v[i] > 0 ? v[i] : 0;
      if (val <= 0) continue;
      const double ya = sy(acc), yb = sy(acc + val);
      o += fmt::format("<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {} {}</title></rect>\n", px(x), px(yb),
                       px(bw), px(std::max(0.5, ya - yb)), colour(k), escape(b.categories[i]), escape(b.parts[k].first), num(val), escape(b.unit));
      acc += val;
    }
    o += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(x + bw / 2), px(kH - kB + 16),
                     escape(b.categories[i].size() > 18 ? b.categories[i].substr(0, 17) + "…" : b.categories[i]));
  }
  o += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", px(kL), px(kT), px(kW - kR - kL), px(kH - kB - kT));
  double ly = kT + 8;
  for (size_t k = 0; k < b.parts.size(); ++k) {
    o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>\n", px(kW - kR + 12),
                     px(ly - 5), colour(k), px(kW - kR + 32), px(ly + 4), escape(b.parts[k].first));
    ly += 18;
  }
  o += "</svg>\n";
  return o;
}

std::string table_html(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows, const std::string& caption) {
  std::string o = "<table>\n";
  if (!caption.empty()) o += "<caption>" + escape(caption) + "</caption>\n";
  o += "<tr>";
  for (const auto& h : header) o += "<th>" + escape(h) + "</th>";
  o += "</tr>\n";
  for (const auto& r : rows) {
    o += "<tr>";
    for (const auto& c : r) o += "<td>" + escape(c) + "</td>";
    o += "</tr>\n";
  }
  return o + "</table>\n";
}

void Page::heading(const std::string& text) { body_ += "<h2>" + escape(text) + "</h2>\n"; }
void Page::paragraph(const std::string& text) { body_ += "<p>" + escape(text) + "</p>\n"; }
void Page::raw(const std::string& html) { body_ += html; }
void Page::figure(const std::string& svg, const std::string& caption) {
  ++figures_;
  body_ += "<figure>\n" + svg;
  if (!caption.empty()) body_ += "<figcaption>" + escape(caption) + "</figcaption>\n";
  body_ += "</figure>\n";
}

std::string Page::html() const {
  // The script checks that every figure rendered (a non-empty box and at
  // least one drawn mark) and records it, with any script error, failed load
  // or console.error, on <body> for a headless browser to read back. The
  // policy forbids every outside load: the page is self-contained or fails.
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{0}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }}
table {{ border-collapse: collapse; margin: 1em 0; }} th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f3f3f3; }} td:first-child, th:first-child {{ text-align: left; }} caption {{ text-align: left; color: #555; padding: 4px 0; }}
figure {{ margin: 1em 0; }} figcaption {{ color: #555; font-size: 0.92em; max-width: 720px; }}
svg .title {{ font-weight: 600; font-size: 14px; }} svg .tick {{ font-size: 11px; fill: #444; }} svg .label {{ font-size: 12px; }}
svg .legend {{ font-size: 11px; }} svg .note {{ font-size: 10px; fill: #a00; }} svg .grid {{ stroke: #e6e6e6; }}
svg .frame {{ fill: none; stroke: #999; }}
</style>
<script>
window.__errors = [];
// script errors, failed loads (capture phase: resource errors do not bubble) and console.error calls
window.addEventListener('error', function (e) {{
  window.__errors.push(e.message ? String(e.message) : 'failed to load ' + ((e.target && (e.target.src || e.target.href)) || 'a resource'));
}}, true);
window.addEventListener('securitypolicyviolation', function (e) {{ window.__errors.push('blocked ' + e.blockedURI); }});
(function () {{
  var orig = console.error;
  console.error = function () {{
    window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return orig.apply(console, arguments);
  }};
}})();
window.addEventListener('load', function () {{
  var figs = document.querySelectorAll('svg.figure'), ok = 0, bad = [];
  for (var i = 0; i < figs.length; i++) {{
    var f = figs[i], b = f.getBBox(), marks = f.querySelectorAll('.mark').length;
    if (b.width > 0 && b.height > 0 && marks > 0) ok++; else bad.push(f.getAttribute('data-figure'));
  }}
  document.body.setAttribute('data-figures', String(figs.length));
  document.body.setAttribute('data-figures-ok', String(ok));
  document.body.setAttribute('data-figures-bad', bad.join(' '));
  document.body.setAttribute('data-errors', window.__errors.join(' | '));
}});
</script></head>
<body>
<h1>{0}</h1>
{1}</body></html>
)",
                     escape(title_), body_);
}

std::string Page::write(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("--report {}: cannot create the folder: {}", dir, ec.message()));
  const std::string path = (std::filesystem::path(dir) / "index.html").string();
  std::ofstream f(path);
  f << html();
  if (!f) throw std::runtime_error(fmt::format("--report {}: cannot write {}", dir, path));
  return path;
}

}  // namespace seedchip::report::svg
