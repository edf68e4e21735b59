#include "http/qr_svg.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "http/html.h"

namespace paygate::http {

namespace {

constexpr int kQuietZone = 4;

}  // namespace

Result<QrMatrix> qr_matrix(std::string_view text) {
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "QR code text is empty");
  if (text.size() > kQrTextMax) {
    return make_error(ErrorCode::kInvalidArgument, "QR code text is " + std::to_string(text.size()) +
                                                       " bytes, more than " + std::to_string(kQrTextMax));
  }
  errno = 0;
  // Version 0: the smallest that fits. 8-bit mode: the text's bytes exactly, whatever they are.
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) {
    return make_error(ErrorCode::kInternal,
                      std::string("QR encoding failed: ") + (errno == ERANGE ? "text too long" : "libqrencode error"));
  }
  QrMatrix m;
  m.width = code->width;
  m.modules.resize(static_cast<size_t>(m.width) * m.width);
  for (size_t i = 0; i < m.modules.size(); ++i) m.modules[i] = (code->data[i] & 1) ? '1' : '0';
  return m;
}

Result<std::string> qr_svg(std::string_view text, std::string_view label) {
  auto matrix = qr_matrix(text);
  if (!matrix.ok()) return std::move(matrix).take_error();
  const QrMatrix& m = *matrix;
  const int size = m.width + 2 * kQuietZone;
  std::string path;
  path.reserve(static_cast<size_t>(m.width) * m.width * 2);
  // Each horizontal run of dark modules is one closed rectangle: M x,y h n v1 h-n z.
  for (int y = 0; y < m.width; ++y) {
    for (int x = 0; x < m.width;) {
      if (!m.dark(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < m.width && m.dark(x + run, y)) ++run;
      path += 'M' + std::to_string(x + kQuietZone) + ',' + std::to_string(y + kQuietZone) + 'h' + std::to_string(run) +
              "v1h-" + std::to_string(run) + 'z';
      x += run;
    }
  }
  const std::string s = std::to_string(size);
  std::string svg;
  svg.reserve(path.size() + 256);
  svg += R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 )" + s + ' ' + s +
         R"(" shape-rendering="crispEdges" role="img" aria-label=")" + html_escape(label) + R"(">)";
  svg += R"(<rect width=")" + s + R"(" height=")" + s + R"(" fill="#fff"/>)";
  svg += R"(<path fill="#000" d=")" + path + R"("/>)";
  svg += "</svg>";
  return svg;
}

}  // namespace paygate::http
