// Tests of the HTML/SVG report writer: escaping, tick choice on linear and
// log axes, points that cannot be drawn, determinism, bars and pages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "seedchip/report/svg.h"

using namespace seedchip::report::svg;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(Svg, Escapes) {
  EXPECT_EQ(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  Chart c{"x", "<script>alert(1)</script>", "", {"a&b"}, {"y"}, {{"s<1>", {1}, {2}, {"tip<>"}, Series::Style::points, false}}, {}};
  const auto s = chart_svg(c);
  EXPECT_EQ(s.find("<script>"), std::string::npos);
  EXPECT_NE(s.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(s.find("a&amp;b"), std::string::npos);
}

TEST(Svg, Ticks) {
  EXPECT_EQ(ticks(0, 10, false), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(ticks(0, 1, false, 5), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  const auto t = ticks(13, 87, false);
  EXPECT_LE(t.front(), 13);
  EXPECT_GE(t.back(), 87);
  EXPECT_EQ(ticks(1, 1000, true), (std::vector<double>{1, 10, 100, 1000}));
  EXPECT_EQ(ticks(1, 10, true), (std::vector<double>{1, 2, 5, 10}));
}

TEST(Svg, UndrawablePointsAreLeftOutWithANote) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  Chart c{"log", "t", "", {"x", true}, {"y", true}, {{"s", {1, -2, 0, 3, nan, 4}, {1, 1, 1, inf, 2, 5}, {}, Series::Style::points, false}}, {}};
  const auto s = chart_svg(c);
  EXPECT_EQ(count(s, "<circle"), 2u);  // (1,1) and (4,5)
  EXPECT_NE(s.find("4 point(s) not drawable"), std::string::npos);
  EXPECT_EQ(s.find("nan"), std::string::npos);
  EXPECT_EQ(s.find("inf"), std::string::npos);
  // degenerate inputs still make a valid figure
  Chart e{"empty", "t", "", {"x"}, {"y"}, {}, {}};
  EXPECT_NE(chart_svg(e).find("data-figure=\"empty\""), std::string::npos);
  Chart one{"one", "t", "", {"x"}, {"y"}, {{"s", {5}, {5}, {}, Series::Style::line, false}}, {}};
  EXPECT_EQ(count(chart_svg(one), "<circle"), 1u);  // a one-point line is drawn as a point
}

TEST(Svg, LinesStepsRoofsAndBars) {
  Chart c{"c", "t", "", {"x"}, {"y"}, {{"cdf", {1, 2, 3}, {0.3, 0.6, 1}, {}, Series::Style::step, false}}, {{"roof", 2, 5}}};
  const auto s = chart_svg(c);
  EXPECT_EQ(count(s, "<polyline"), 2u);
  EXPECT_EQ(count(s, "class=\"mark"), 2u);
  Bars b{"b", "area", "", "mm2", {"v1", "v2"}, {{"sram", {10, 20}}, {"matrix", {5, std::nan("")}}}};
  const auto bs = bars_svg(b);
  EXPECT_EQ(count(bs, "<rect class=\"mark\""), 3u);  // the NaN segment is not drawn
  EXPECT_EQ(chart_svg(c), s);                         // deterministic
}

TEST(Svg, PageIsSelfContained) {
  Page p("report <1>");
  p.heading("h");
  p.paragraph("a & b");
  p.figure(chart_svg({"f", "t", "", {"x"}, {"y"}, {{"s", {1, 2}, {3, 4}, {}, Series::Style::line, false}}, {}}), "cap");
  p.raw(table_html({"a", "b"}, {{"1", "<2>"}}, "t"));
  const auto h = p.html();
  EXPECT_EQ(p.figures(), 1u);
  EXPECT_NE(h.find("<title>report &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(h.find("&lt;2&gt;"), std::string::npos);
  EXPECT_EQ(h.find("http://"), h.find("http://www.w3.org/2000/svg"));  // no link but the SVG namespace
  EXPECT_EQ(h.find("https://"), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  const auto dir = std::filesystem::temp_directory_path() / ("seedchip_svg_" + std::to_string(::getpid()));
  const auto path = p.write(dir.string());
  std::ifstream f(path);
  std::string back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, h);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(p.write("/proc/nope/dir"), std::runtime_error);
}
