// Package config loads and checks the gateway's configuration: a YAML file
// with BEDGATE_* environment overrides (viper), validated as a whole so that
// every bad value is reported at once with the key it came from.
package config
