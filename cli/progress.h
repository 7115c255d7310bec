// seedchip — a progress bar on stderr for the long-running commands.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace seedchip::cli {

// A progress bar on stderr for runs longer than a second, only on a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string what) : what_(std::move(what)), t0_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (shown_) std::fprintf(stderr, "\r%*s\r", 60, "");
  }
  std::function<void(double)> callback() {
    if (!isatty(2)) return {};
    return [this](double f) {
      const auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - t0_).count() < 1.0) return;
      if (shown_ && std::chrono::duration<double>(now - last_).count() < 0.1) return;
      last_ = now;
      shown_ = true;
      const int w = 30, fill = static_cast<int>(std::clamp(f, 0.0, 1.0) * w);
      std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", what_.c_str(), fill, "##############################", w - fill, "",
                   static_cast<int>(f * 100));
      std::fflush(stderr);
    };
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point t0_, last_;
  bool shown_ = false;
};

}  // namespace seedchip::cli
