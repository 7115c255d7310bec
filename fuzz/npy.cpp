// Fuzz target: NumPy .npy files, parsed and converted to a program input.
#include "fuzz_util.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string source = "fuzz.npy";
  try {
    runtime::NpyArray a = runtime::parse_npy(std::vector<uint8_t>(data, data + size), source);
    fuzz::require(a.data.size() == a.elements() * static_cast<uint64_t>(a.item_size()), "data size differs from shape x item size");
    // the same bytes as a --input file: the conversion to a program tensor
    const std::string path = fuzz::scratch_file(source, data, size);
    try {
      ir::HostTensor t = runtime::read_tensor_file(path);
      fuzz::require(static_cast<uint64_t>(t.elements()) == a.elements(), "converted tensor has another element count");
    } catch (const std::exception& e) {
      fuzz::check_rejection(e, path);
    }
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
