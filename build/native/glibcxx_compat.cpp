// Defines std::ios_base_library_init(), which GCC 13's libstdc++ (GLIBCXX_3.4.32) added and which
// TorchSharp's libLibTorchSharp.so references. On systems whose libstdc++ predates GCC 13 this tiny
// library is added as a DT_NEEDED dependency of a patched copy of libLibTorchSharp.so (see
// build/LibTorchSharpCompat.cs). Constructing std::ios_base::Init is exactly what the GCC 13
// function does: it makes sure the standard streams are initialised.
#include <ios>

namespace std {
void ios_base_library_init() {
  static ios_base::Init init;
}
}  // namespace std
