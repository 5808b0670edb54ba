package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// kind is what a setting's value must be.
type kind int

const (
	kindString kind = iota
	kindInt
	kindFloat
	kindBool
	kindDuration
	kindList
)

// kindOf is the kind of a default value in the defaults table.
func kindOf(d any) kind {
	switch d.(type) {
	case time.Duration:
		return kindDuration
	case int, int64:
		return kindInt
	case float64:
		return kindFloat
	case bool:
		return kindBool
	case []string:
		return kindList
	}
	return kindString
}

// bedExamples are example values of a bed's settings that are not strings.
var bedExamples = map[string]string{"baud": "9600", "data_bits": "8", "stop_bits": "1", "news2_scale2": "false", "forward_every": "1m"}

// bedKinds are the kinds of a bed's settings that are not strings.
var bedKinds = map[string]kind{"baud": kindInt, "data_bits": kindInt, "stop_bits": kindInt, "news2_scale2": kindBool, "forward_every": kindDuration}

// envName is the environment variable that overrides key.
func envName(key string) string {
	return "BEDGATE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// source names where key's value came from: its environment variable
// when that is set, else the key.
func source(key string) string {
	if _, ok := os.LookupEnv(envName(key)); ok && !strings.HasPrefix(key, "beds[") {
		return envName(key) + " (" + key + ")"
	}
	return key
}

// checkValues checks that every setting has a value of its kind before the
// configuration is decoded, so that every such mistake is reported at once
// with its key (or environment variable), the value and the fix; it
// replaces each bad value by its default so that the rest is checked too.
func checkValues(v *viper.Viper) []error {
	var errs []error
	keys := slices.Sorted(maps.Keys(defaults))
	for _, key := range keys {
		d := defaults[key]
		if err := checkValue(kindOf(d), v.Get(key), fmt.Sprint(d)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source(key), err))
			v.Set(key, d)
		}
	}
	beds, ok := v.Get("beds").([]any)
	if !ok {
		return errs
	}
	changed := false
	for i, b := range beds {
		bed, ok := b.(map[string]any)
		if !ok {
			continue
		}
		for field, k := range bedKinds {
			val, set := bed[field]
			if !set {
				continue
			}
			if err := checkValue(k, val, bedExamples[field]); err != nil {
				errs = append(errs, fmt.Errorf("beds[%d].%s: %w", i, field, err))
				delete(bed, field) // the driver's default
				changed = true
			}
		}
	}
	if changed {
		v.Set("beds", beds)
	}
	return errs
}

// checkValue returns why val is not a value of kind k, with the fix;
// example is a good value.
func checkValue(k kind, val any, example string) error {
	if val == nil {
		return nil
	}
	s, isString := val.(string)
	switch k {
	case kindDuration:
		switch x := val.(type) {
		case time.Duration:
			return nil
		case string:
			if _, err := time.ParseDuration(x); err == nil {
				return nil
			}
			if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return fmt.Errorf("%q is not a duration: give the unit, for example %ss or %sm (h, m, s, ms)", x, x, x)
			}
			return fmt.Errorf("%q is not a duration: %s", x, durationFix(x))
		case int, int64, float64:
			return fmt.Errorf("%v is not a duration: give the unit, for example %vs or %vm (h, m, s, ms)", x, x, x)
		}
	case kindInt:
		switch x := val.(type) {
		case int, int64, int32, uint, uint64:
			return nil
		case float64:
			if x == float64(int64(x)) {
				return nil
			}
			return fmt.Errorf("%v: must be a whole number", x)
		case string:
			if _, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return nil
			}
			if fix := sizeFix(x); fix != "" {
				return fmt.Errorf("%q is not a whole number: %s", x, fix)
			}
			return fmt.Errorf("%q is not a whole number: write one, for example %s", x, example)
		}
	case kindFloat:
		switch val.(type) {
		case int, int64, float64:
			return nil
		}
		if isString {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return nil
			}
		}
		return fmt.Errorf("%q is not a number", fmt.Sprint(val))
	case kindBool:
		if _, ok := val.(bool); ok {
			return nil
		}
		if isString {
			if _, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return nil
			}
		}
		return fmt.Errorf("%q: must be true or false", fmt.Sprint(val))
	case kindList:
		if isString || reflect.TypeOf(val).Kind() == reflect.Slice {
			return nil
		}
		return fmt.Errorf("%q: must be a list", fmt.Sprint(val))
	default:
		if reflect.TypeOf(val).Kind() == reflect.Map || reflect.TypeOf(val).Kind() == reflect.Slice {
			return errors.New("must be a single value, not a list or a section")
		}
	}
	return nil
}

// durationWithDays matches what people write for durations that Go does
// not read: days and weeks, units spelt out, spaces.
var durationWithDays = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)\s*(w|weeks?|d|days?|h|hours?|hrs?|m|mins?|minutes?|s|secs?|seconds?)\s*$`)

// durationFix says how to write a duration Go reads: "7d" → "168h".
func durationFix(s string) string {
	m := durationWithDays.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return "write a number with a unit: h, m, s or ms (for example 90s, 15m, 168h)"
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	unit := map[byte]time.Duration{'w': 7 * 24 * time.Hour, 'd': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[m[2][0]]
	d := time.Duration(n * float64(unit))
	if unit >= 24*time.Hour {
		return fmt.Sprintf("write %s (durations take h, m, s or ms; no days)", shortDuration(d))
	}
	return fmt.Sprintf("write %s (durations take h, m, s or ms)", shortDuration(d))
}

// shortDuration writes d without zero parts: 168h, 15m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sizes matches a byte size with a unit: 256MiB, 1GB, 512 k.
var sizes = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)\s*([kmgt])(i?)b?\s*$`)

// sizeFix says how to write a size with a unit as bytes: "1GiB" →
// "1073741824".
func sizeFix(s string) string {
	m := sizes.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return ""
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	base := 1000.0
	if m[3] == "i" {
		base = 1024
	}
	exp := strings.Index("kmgt", m[2]) + 1
	bytes := n
	for range exp {
		bytes *= base
	}
	return fmt.Sprintf("write the bytes, %.0f", bytes)
}

// invalidKeys matches mapstructure's report of keys no setting has.
var invalidKeys = regexp.MustCompile(`^'([^']*)' has invalid keys: (.*)$`)

// undecodable turns the decoder's report into one error per line, unknown
// keys named by their full key.
func undecodable(err error) []error {
	var out []error
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "decoding failed") {
			continue
		}
		if m := invalidKeys.FindStringSubmatch(line); m != nil {
			for _, k := range strings.Split(m[2], ", ") {
				if m[1] != "" {
					k = m[1] + "." + k
				}
				out = append(out, fmt.Errorf("%s: unknown key: check its spelling and section (configs/ward-example.yaml lists every key)", k))
			}
			continue
		}
		out = append(out, errors.New(strings.Trim(line, "'")))
	}
	return out
}

// withSources flattens joined errors and names the environment variable
// of each problem whose key was set by one.
func withSources(errs []error) []error {
	var out []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, withSources(j.Unwrap())...)
			continue
		}
		msg := err.Error()
		key, rest, found := strings.Cut(msg, ": ")
		if found && !strings.HasPrefix(key, "BEDGATE_") {
			if src := source(key); src != key {
				err = fmt.Errorf("%s: %s", src, rest)
			}
		}
		out = append(out, err)
	}
	return out
}
