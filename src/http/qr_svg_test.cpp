#include "http/qr_svg.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace paygate::http {
namespace {

// ---- reading the SVG back ----

int count_of(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// The module grid the SVG draws (quiet zone included): the viewBox gives its size, each "Mx,yhNv1h-Nz" of the path
// one run of dark modules.
struct Grid {
  int size = 0;
  std::vector<std::vector<bool>> dark;
};

Grid grid_from_svg(const std::string& svg) {
  Grid g;
  const std::string view_box = "viewBox=\"0 0 ";
  size_t at = svg.find(view_box);
  EXPECT_NE(at, std::string::npos);
  int width = 0, height = 0;
  EXPECT_EQ(std::sscanf(svg.c_str() + at + view_box.size(), "%d %d\"", &width, &height), 2);
  EXPECT_EQ(width, height);
  g.size = width;
  g.dark.assign(g.size, std::vector<bool>(g.size, false));
  const std::string path = "<path fill=\"#000\" d=\"";
  at = svg.find(path);
  EXPECT_NE(at, std::string::npos);
  const std::string d = svg.substr(at + path.size(), svg.find('"', at + path.size()) - at - path.size());
  // Each run: M<x>,<y>h<n>v1h-<n>z
  for (size_t i = 0; i < d.size();) {
    int x = -1, y = -1, n = -1, back = -1, used = 0;
    int read = std::sscanf(d.c_str() + i, "M%d,%dh%dv1h-%dz%n", &x, &y, &n, &back, &used);
    EXPECT_EQ(read, 4) << "the path has something other than runs at " << i;
    if (read != 4 || used == 0) break;
    EXPECT_EQ(n, back);
    bool inside = x >= 0 && y >= 0 && n > 0 && x + n <= g.size && y < g.size;
    EXPECT_TRUE(inside) << "run outside the viewBox at " << i;
    if (!inside) break;
    for (int k = 0; k < n; ++k) {
      EXPECT_FALSE(g.dark[y][x + k]) << "module drawn twice";
      g.dark[y][x + k] = true;
    }
    i += static_cast<size_t>(used);
  }
  return g;
}

// ---- a minimal QR decoder: versions 1-3 (no version information, one Reed-Solomon block at level M) ----

struct Decoded {
  int version = 0;
  int ec_level_bits = -1;  // 0 = M
  int mask = -1;
  std::string text;
  std::string error;
};

bool is_function_module(int size, int version, int x, int y) {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  if (in(x, 0, 8) && in(y, 0, 8)) return true;                // top-left finder, separator, format
  if (in(x, size - 8, size - 1) && in(y, 0, 8)) return true;  // top-right finder, separator, format
  if (in(x, 0, 8) && in(y, size - 8, size - 1)) return true;  // bottom-left finder, separator, format, dark module
  if (x == 6 || y == 6) return true;                          // timing patterns
  if (version >= 2) {                                         // the one alignment pattern of versions 2-6
    int c = size - 7;
    if (in(x, c - 2, c + 2) && in(y, c - 2, c + 2)) return true;
  }
  return false;
}

bool mask_inverts(int mask, int x, int y) {
  switch (mask) {
    case 0:
      return (x + y) % 2 == 0;
    case 1:
      return y % 2 == 0;
    case 2:
      return x % 3 == 0;
    case 3:
      return (x + y) % 3 == 0;
    case 4:
      return (x / 3 + y / 2) % 2 == 0;
    case 5:
      return x * y % 2 + x * y % 3 == 0;
    case 6:
      return (x * y % 2 + x * y % 3) % 2 == 0;
    default:
      return ((x + y) % 2 + x * y % 3) % 2 == 0;
  }
}

int format_bch(int data5) {
  int rem = data5;
  for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
  return (data5 << 10 | rem) ^ 0x5412;
}

Decoded decode(const QrMatrix& q) {
  Decoded out;
  const int size = q.width;
  if ((size - 17) % 4 != 0) return out.error = "bad size", out;
  out.version = (size - 17) / 4;
  if (out.version < 1 || out.version > 3) return out.error = "decoder handles versions 1-3 only", out;

  // Format information, first copy (around the top-left finder), then the second must agree.
  int f1 = 0, f2 = 0;
  for (int i = 0; i <= 5; ++i) f1 |= q.dark(8, i) << i;
  f1 |= q.dark(8, 7) << 6;
  f1 |= q.dark(8, 8) << 7;
  f1 |= q.dark(7, 8) << 8;
  for (int i = 9; i < 15; ++i) f1 |= q.dark(14 - i, 8) << i;
  for (int i = 0; i < 8; ++i) f2 |= q.dark(size - 1 - i, 8) << i;
  for (int i = 8; i < 15; ++i) f2 |= q.dark(8, size - 15 + i) << i;
  if (f1 != f2) return out.error = "format copies differ", out;
  if (!q.dark(8, size - 8)) return out.error = "dark module missing", out;
  int data5 = -1;
  for (int d = 0; d < 32; ++d) {
    if (format_bch(d) == f1) data5 = d;
  }
  if (data5 < 0) return out.error = "format information is not a BCH code word", out;
  out.ec_level_bits = data5 >> 3;
  out.mask = data5 & 7;

  // Codewords in the zigzag order, unmasked.
  std::vector<int> bits;
  for (int right = size - 1; right >= 1; right -= 2) {
    if (right == 6) right = 5;
    for (int vert = 0; vert < size; ++vert) {
      for (int j = 0; j < 2; ++j) {
        int x = right - j;
        bool upward = ((right + 1) & 2) == 0;
        int y = upward ? size - 1 - vert : vert;
        if (is_function_module(size, out.version, x, y)) continue;
        bits.push_back(q.dark(x, y) != mask_inverts(out.mask, x, y));
      }
    }
  }
  static constexpr int kDataCodewordsM[] = {0, 16, 28, 44};
  const size_t data_bits = static_cast<size_t>(kDataCodewordsM[out.version]) * 8;
  if (bits.size() < data_bits) return out.error = "too few modules", out;
  size_t at = 0;
  auto read = [&](int n) {
    int v = 0;
    for (int i = 0; i < n; ++i) v = v << 1 | bits[at++];
    return v;
  };
  if (read(4) != 0b0100) return out.error = "not byte mode", out;
  int count = read(8);
  if (12 + static_cast<size_t>(count) * 8 > data_bits) return out.error = "count beyond the data", out;
  for (int i = 0; i < count; ++i) out.text += static_cast<char>(read(8));
  return out;
}

void expect_finder_at(const QrMatrix& q, int x0, int y0) {
  for (int dy = 0; dy < 7; ++dy) {
    for (int dx = 0; dx < 7; ++dx) {
      int ring = std::max(std::abs(dx - 3), std::abs(dy - 3));
      bool expected = ring != 2;  // dark 7x7 border, light ring, dark 3x3 centre
      EXPECT_EQ(q.dark(x0 + dx, y0 + dy), expected) << "finder at " << x0 << "," << y0 << " module " << dx << "," << dy;
    }
  }
}

// ---- tests ----

constexpr std::string_view kLink40 = "https://pay.example/p/0123456789abcdefgh";  // 40 bytes: version 3 at level M

TEST(QrSvg, SvgDrawsExactlyTheMatrixInsideAFourModuleQuietZone) {
  auto svg = qr_svg(kLink40);
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  auto matrix = qr_matrix(kLink40);
  ASSERT_TRUE(matrix.ok());
  EXPECT_EQ(matrix->width, 29);  // version 3
  Grid g = grid_from_svg(*svg);
  ASSERT_EQ(g.size, 29 + 8);
  for (int y = 0; y < g.size; ++y) {
    for (int x = 0; x < g.size; ++x) {
      bool inside = x >= 4 && y >= 4 && x < 4 + 29 && y < 4 + 29;
      bool expected = inside && matrix->dark(x - 4, y - 4);
      ASSERT_EQ(g.dark[y][x], expected) << x << "," << y;
    }
  }
}

TEST(QrSvg, IsAStandaloneAccessibleSvgWithOnePath) {
  auto svg = qr_svg("HELLO", "支付二维码 <pay>");
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->rfind(R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29")", 0), 0u) << *svg;
  EXPECT_NE(svg->find(R"(shape-rendering="crispEdges")"), std::string::npos);
  EXPECT_NE(svg->find(R"(role="img")"), std::string::npos);
  EXPECT_NE(svg->find(R"(aria-label="支付二维码 &lt;pay&gt;")"), std::string::npos);
  EXPECT_EQ(count_of(*svg, "<path"), 1);
  EXPECT_EQ(count_of(*svg, "<svg"), 1);
  EXPECT_TRUE(svg->ends_with("</svg>"));
  EXPECT_EQ(svg->find('\n'), std::string::npos);
}

TEST(QrSvg, VersionGrowsWithTheText) {
  EXPECT_EQ(qr_matrix("HELLO")->width, 21);                          // version 1
  EXPECT_EQ(qr_matrix(std::string(20, 'a'))->width, 25);             // version 2 (M holds 14..26 bytes)
  EXPECT_EQ(qr_matrix(kLink40)->width, 29);                          // version 3
  EXPECT_EQ(qr_matrix(std::string(kQrTextMax, 'x'))->width % 4, 1);  // 17 + 4v
  EXPECT_GT(qr_matrix(std::string(kQrTextMax, 'x'))->width, 100);
}

TEST(QrSvg, IsDeterministic) {
  auto a = qr_svg(kLink40), b = qr_svg(kLink40);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *qr_svg("https://pay.example/p/0123456789abcdefgi"));
}

TEST(QrSvg, HasTheThreeFinderPatternsAndTimingPatterns) {
  auto q = qr_matrix(kLink40);
  ASSERT_TRUE(q.ok());
  const int n = q->width;
  expect_finder_at(*q, 0, 0);
  expect_finder_at(*q, n - 7, 0);
  expect_finder_at(*q, 0, n - 7);
  EXPECT_FALSE(q->dark(n - 7, n - 7) && q->dark(n - 8, n - 8) && q->dark(n - 9, n - 9)) << "no fourth finder";
  for (int i = 8; i < n - 8; ++i) {
    EXPECT_EQ(q->dark(i, 6), i % 2 == 0) << "horizontal timing " << i;
    EXPECT_EQ(q->dark(6, i), i % 2 == 0) << "vertical timing " << i;
  }
}

TEST(QrSvg, DecodesBackToTheTextAtLevelM) {
  for (std::string text : {std::string("HELLO"), std::string(20, 'a'), std::string(kLink40),
                           std::string("/api/Pay?id=PAY1&channel=2"), std::string("支付 ¥12.34 \x01\xff")}) {
    auto svg = qr_svg(text);
    ASSERT_TRUE(svg.ok());
    Grid g = grid_from_svg(*svg);
    QrMatrix q;  // the matrix as drawn, read back from the SVG
    q.width = g.size - 8;
    for (int y = 0; y < q.width; ++y) {
      for (int x = 0; x < q.width; ++x) q.modules += g.dark[y + 4][x + 4] ? '1' : '0';
    }
    Decoded d = decode(q);
    ASSERT_EQ(d.error, "") << text;
    EXPECT_EQ(d.ec_level_bits, 0) << "level M";
    EXPECT_EQ(d.text, text);
  }
}

TEST(QrSvg, RejectsEmptyAndOverlongText) {
  EXPECT_EQ(qr_svg("").error().code, ErrorCode::kInvalidArgument);
  auto too_long = qr_svg(std::string(kQrTextMax + 1, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(too_long.error().message.find("1025"), std::string::npos);
  EXPECT_TRUE(qr_svg(std::string(kQrTextMax, 'x')).ok());
  EXPECT_TRUE(qr_svg(std::string(kQrTextMax, '\xff')).ok());  // 8-bit mode takes any bytes
}

}  // namespace
}  // namespace paygate::http
