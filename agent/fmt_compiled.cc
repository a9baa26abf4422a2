// The compiled part of {fmt} (its format-inl.h), built into steadfast-agent instead of linking
// libfmt.so. Why: libfmt.so is a shared C++ library, and any shared C++ library makes the agent
// map libstdc++.so (about 1.6 MB resident, whatever is called); the agent links libstdc++
// statically (agent/CMakeLists.txt). Debian's libfmt-dev ships the headers with the
// implementation, but no static archive. This object comes before steadfast::common's
// fmt::fmt on the link line, so --as-needed leaves libfmt.so out; the collector and the tools
// keep the shared library.
//
// The explicit instantiations are those format.h declares `extern template` (it expects the
// library to provide them); the non-template functions (vformat, throw_format_error, ...) are
// defined by format-inl.h itself.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl<char>(locale_ref) -> char;
template FMT_API auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl<wchar_t>(locale_ref) -> wchar_t;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

}  // namespace detail
FMT_END_NAMESPACE
