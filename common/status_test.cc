#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace steadfast {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  SF_ASSIGN_OR_RETURN(int h, Half(x));
  SF_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  SF_RETURN_IF_ERROR(Half(x).status());
  return OkStatus();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = NotFoundError("no host");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: no host");
  EXPECT_EQ(s.WithContext("lookup").message(), "lookup: no host");
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(StatusTest, RetryabilityFollowsCode) {
  EXPECT_TRUE(UnavailableError("").IsRetryable());
  EXPECT_TRUE(DeadlineExceededError("").IsRetryable());
  EXPECT_TRUE(AbortedError("").IsRetryable());
  EXPECT_FALSE(InvalidArgumentError("").IsRetryable());
  EXPECT_FALSE(UnauthenticatedError("").IsRetryable());
  EXPECT_FALSE(DataLossError("").IsRetryable());
}

TEST(StatusTest, CodeNamesAreStable) {
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "resource_exhausted");
}

TEST(StatusOrTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(StatusOrTest, HoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> v = std::move(p).value();
  EXPECT_EQ(*v, 7);
}

TEST(StatusOrDeathTest, ValueOfErrorCrashes) {
  StatusOr<int> s = InternalError("boom");
  EXPECT_DEATH((void)s.value(), "boom");
}

}  // namespace
}  // namespace steadfast
