#include "collector/api/api_tokens.h"

#include "collector/auth/tokens.h"

namespace steadfast::collector::api {

StatusOr<IssuedToken> IssueApiToken(accounts::AccountStore& store, const accounts::Actor& actor,
                                    auth::SecureRandom& random, int64_t owner_user_id, accounts::Role role,
                                    int64_t unit_id, const std::string& name, int64_t days) {
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  IssuedToken issued;
  issued.secret = auth::NewToken(auth::TokenKind::kApi, random);
  accounts::ApiToken t;
  t.name = name;
  t.token_sha256 = auth::HashToken(issued.secret);
  t.role = role;
  t.unit_id = unit_id;
  t.created_by_user_id = owner_user_id;
  t.created_at_ms = actor.time_ms;
  t.expires_at_ms = actor.time_ms + days * kDayMs;
  SF_ASSIGN_OR_RETURN(issued.token, store.CreateApiToken(actor, t));
  return issued;
}

}  // namespace steadfast::collector::api
