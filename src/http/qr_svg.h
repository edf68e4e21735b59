// QR codes as inline SVG, for the hosted payment pages: no image files, no external assets.
#pragma once
#include <string>
#include <string_view>

#include "base/result.h"

namespace paygate::http {

// The most bytes qr_svg encodes. A payment link is far shorter; a QR code of this size is already hard to scan.
inline constexpr size_t kQrTextMax = 1024;

// `text` as a QR code (8-bit mode, error correction level M, the smallest version that fits), rendered as one
// standalone <svg>: a white background, one <path> of the dark modules, a quiet zone of 4 modules, a viewBox in
// module units and no width or height (the page sizes it), shape-rendering="crispEdges", role="img" and
// aria-label=`label` (escaped). Deterministic: the same text gives the same bytes.
// kInvalidArgument when `text` is empty or longer than kQrTextMax bytes; kInternal when libqrencode fails.
Result<std::string> qr_svg(std::string_view text, std::string_view label = "QR code");

// The module matrix behind qr_svg (true = dark), without the quiet zone; row-major, width × width. For tests
// and for renderers other than SVG.
struct QrMatrix {
  int width = 0;
  std::string modules;  // '1' dark, '0' light; width * width characters
  bool dark(int x, int y) const { return modules[static_cast<size_t>(y) * width + x] == '1'; }
};
Result<QrMatrix> qr_matrix(std::string_view text);

}  // namespace paygate::http
