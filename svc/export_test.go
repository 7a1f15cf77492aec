package svc

// SecretsOf exposes the secret values found in s's configuration to the
// external tests, which check that no output holds them.
func SecretsOf(s *Service) []string { return s.secrets.Values() }

// StandbyStatus exposes standby to the tests.
var StandbyStatus = standby
