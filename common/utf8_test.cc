#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace steadfast {
namespace {

TEST(Utf8TextLengthTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(Utf8TextLength(""), 0u);
  EXPECT_EQ(Utf8TextLength("abc"), 3u);
  EXPECT_EQ(Utf8TextLength("张伟"), 2u);           // 3 bytes each
  EXPECT_EQ(Utf8TextLength("\xF0\x9F\x94\xA5"), 1u);  // U+1F525, 4 bytes
}

TEST(Utf8TextLengthTest, RefusesMalformedUtf8) {
  for (const std::string& bad : {std::string("\xC0\xAF"),            // overlong '/'
                                std::string("\xE0\x80\xAF"),        // overlong, 3 bytes
                                std::string("\xED\xA0\x80"),        // surrogate U+D800
                                std::string("\xF4\x90\x80\x80"),    // beyond U+10FFFF
                                std::string("\xE5\xBC"),            // cut short
                                std::string("\x80"),                // lone continuation
                                std::string("a\xFF")}) {
    EXPECT_EQ(Utf8TextLength(bad), std::nullopt) << bad;
  }
}

TEST(Utf8TextLengthTest, ControlCharactersAndLineBreaks) {
  EXPECT_EQ(Utf8TextLength(std::string("a\0b", 3)), std::nullopt);
  EXPECT_EQ(Utf8TextLength("a\x7F"), std::nullopt);
  EXPECT_EQ(Utf8TextLength("a\xC2\x85"), std::nullopt);  // C1 NEL
  EXPECT_EQ(Utf8TextLength("line\nnext"), std::nullopt);
  EXPECT_EQ(Utf8TextLength("line\r\nnext\tend", /*allow_line_breaks=*/true), 14u);
  EXPECT_EQ(Utf8TextLength("bell\a", /*allow_line_breaks=*/true), std::nullopt);
}

}  // namespace
}  // namespace steadfast
