// seedchip — names of the element data types.
#include "seedchip/numerics/dtype.h"

#include <array>

namespace seedchip {

namespace {
// Indexed by the enum value; must list every DType in order.
constexpr std::array<std::string_view, kNumDTypes> kNames = {
    "fp32", "bf16", "fp16", "fp8e4m3", "fp8e5m2", "int8", "uint8", "int32", "int4",
};
}  // namespace

std::string_view dtype_name(DType t) {
  const auto v = static_cast<unsigned>(t);
  return dtype_valid(v) ? kNames[v] : std::string_view("invalid");
}

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "fp8") return DType::fp8e4m3;  // documented alias
  for (unsigned v = 0; v < kNames.size(); ++v) {
    if (kNames[v] == name) return static_cast<DType>(v);
  }
  return std::nullopt;
}

}  // namespace seedchip
