#include "collector/api/passwords.h"

#include "common/logging.h"


namespace steadfast::collector::api {

Passwords::Passwords(const auth::AuthConfig& config, auth::SecureRandom& random)
    : config_(config), random_(random), hasher_(std::make_unique<auth::PasswordHasher>(config.argon2, random)) {}

StatusOr<std::string> Passwords::HashNew(accounts::AccountStore& store, const std::string& password,
                                         const std::string& username, const std::string& display_name,
                                         int64_t existing_user_id) const {
  SF_RETURN_IF_ERROR(config_.password_policy.Validate(password, username, display_name));
  if (existing_user_id > 0 && config_.password_policy.history > 0) {
    SF_ASSIGN_OR_RETURN(accounts::UserCredentials creds, store.GetCredentials(existing_user_id));
    SF_ASSIGN_OR_RETURN(std::vector<std::string> older, store.PasswordHistory(existing_user_id));
    std::vector<std::string> history;
    history.push_back(creds.password_hash);  // the policy's history counts the current one
    history.insert(history.end(), older.begin(), older.end());
    SF_ASSIGN_OR_RETURN(bool reused, config_.password_policy.ReusesHistory(password, history, *hasher_));
    if (reused) {
      return InvalidArgumentError("password: must differ from your last " +
                                  std::to_string(config_.password_policy.history) + " passwords");
    }
  }
  return hasher_->Hash(password);
}

std::string Passwords::Temporary() const {
  return auth::GenerateTemporaryPassword(config_.password_policy, "", "", random_);
}

bool Passwords::Verify(const std::string& password, const std::string& encoded) const {
  if (encoded.empty()) {
    hasher_->DummyVerify(password);
    return false;
  }
  StatusOr<bool> ok = hasher_->Verify(password, encoded);
  if (!ok.ok()) {
    // A damaged stored hash, or argon2 out of memory: the login fails, and someone should know.
    SF_LOG_ERROR("auth: cannot verify a password: {}", ok.status().ToString());
    return false;
  }
  return *ok;
}

int Passwords::history_depth() const { return config_.password_policy.history; }

bool Passwords::IsExpired(int64_t changed_at_ms, int64_t now_ms) const {
  return config_.password_policy.IsExpired(changed_at_ms, now_ms);
}

}  // namespace steadfast::collector::api
