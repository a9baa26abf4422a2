// Issuing an API token: a fresh `sfa_` secret, its hash in the store, and the secret returned
// once. The API (POST /api/v1/tokens), `steadfast-collector admin create-token` and tests all
// issue tokens through here.
#pragma once

#include <cstdint>
#include <string>

#include "collector/accounts/account_store.h"
#include "collector/auth/secure_random.h"

namespace steadfast::collector::api {

struct IssuedToken {
  std::string secret;  // shown to the caller once; never stored
  accounts::ApiToken token;
};

// A token of the user `owner_user_id` carrying `role` over `unit_id`, valid `days` from `actor.time_ms`. The
// caller has checked that the owner may hold it; errors are the store's (InvalidArgument naming
// the field, AlreadyExists for a name the owner already uses).
StatusOr<IssuedToken> IssueApiToken(accounts::AccountStore& store, const accounts::Actor& actor,
                                    auth::SecureRandom& random, int64_t owner_user_id, accounts::Role role,
                                    int64_t unit_id, const std::string& name, int64_t days);

}  // namespace steadfast::collector::api
