#include "collector/accounts/account_store.h"

#include <gtest/gtest.h>

namespace steadfast::collector::accounts {
namespace {

TEST(FieldErrorTest, NamesTheFieldAndRoundTrips) {
  const Status st = FieldError("contacts.email", "is not an email address");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "contacts.email: is not an email address");
  EXPECT_EQ(FieldOfError(st), "contacts.email");
  EXPECT_EQ(FieldOfError(FieldError("roles[2]", "unknown role")), "roles[2]");
}

TEST(FieldErrorTest, FindsFieldsOnlyWhereTheStoreWritesThem) {
  EXPECT_EQ(FieldOfError(AlreadyExistsError("username: already taken")), "username");
  EXPECT_EQ(FieldOfError(FailedPreconditionError("user_id: user is disabled")), "user_id");
  EXPECT_EQ(FieldOfError(OkStatus()), "");
  // Other layers' messages start with words that are not fields.
  EXPECT_EQ(FieldOfError(UnavailableError("database: disk I/O error")), "");
  EXPECT_EQ(FieldOfError(InternalError("step: constraint failed")), "");
  EXPECT_EQ(FieldOfError(InvalidArgumentError("no field here")), "");
  EXPECT_EQ(FieldOfError(InvalidArgumentError("/var/lib/x.db: bad")), "");
  EXPECT_EQ(FieldOfError(InvalidArgumentError("two words: reason")), "");
  EXPECT_EQ(FieldOfError(InvalidArgumentError(": reason")), "");
  EXPECT_EQ(FieldOfError(InvalidArgumentError("1abc: reason")), "");
}

TEST(UnitKindTest, NamesRoundTrip) {
  for (UnitKind k : {UnitKind::kCentre, UnitKind::kUnit, UnitKind::kDepartment}) {
    EXPECT_EQ(ParseUnitKind(UnitKindName(k)), k);
  }
  EXPECT_EQ(UnitKindName(UnitKind::kCentre), "centre");
  EXPECT_EQ(UnitKindName(UnitKind::kUnit), "unit");
  EXPECT_EQ(UnitKindName(UnitKind::kDepartment), "department");
  EXPECT_FALSE(ParseUnitKind("Centre").has_value());
  EXPECT_FALSE(ParseUnitKind("").has_value());
  EXPECT_FALSE(ParseUnitKind("team").has_value());
}

}  // namespace
}  // namespace steadfast::collector::accounts
