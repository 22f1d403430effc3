#pragma once

namespace psycho {
inline constexpr const char* kVersion = "0.1.0";
}
