#include "common/dl/lazy_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace steadfast::dl {

const Status& LazyLibrary::Load() {
  std::call_once(once_, [this] {
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      status_ = FailedPreconditionError(std::string("needs ") + soname_ + " (Debian package " +
                                        package_ + "): " + (why != nullptr ? why : "not found"));
    }
  });
  return status_;
}

void* LazyLibrary::Symbol(const char* name) {
  const Status& loaded = Load();
  void* sym = handle_ != nullptr ? ::dlsym(handle_, name) : nullptr;
  if (sym == nullptr) {
    std::fprintf(stderr, "steadfast: fatal: %s from %s unavailable: %s\n", name, soname_,
                 handle_ == nullptr ? loaded.ToString().c_str() : "not in the loaded library");
    std::abort();
  }
  return sym;
}

}  // namespace steadfast::dl
