package assoc

import "fmt"

// CheckNHSNumber reports whether s is a valid NHS number: exactly ten ASCII
// digits (no spaces) whose tenth digit is the Modulus 11 check digit of the
// first nine (NHS Data Dictionary, NHS NUMBER, steps 1–5): the digits are
// weighted 10 down to 2 and summed; the check digit is 11 − (sum mod 11),
// where 11 means 0 and 10 means the number is invalid (never issued). The
// error wraps ErrNHSNumber and never repeats the number.
func CheckNHSNumber(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("%w: must be 10 digits, got %d characters", ErrNHSNumber, len(s))
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: must be digits only", ErrNHSNumber)
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i) // [NHS DD step 1–2]
		}
	}
	check := 11 - sum%11 // [NHS DD step 3–4]
	switch check {
	case 11:
		check = 0
	case 10:
		return fmt.Errorf("%w: check digit would be 10 (never issued)", ErrNHSNumber)
	}
	if check != int(s[9]-'0') { // [NHS DD step 5]
		return fmt.Errorf("%w: fails the Modulus 11 check", ErrNHSNumber)
	}
	return nil
}

// NormalizeNHSNumber returns the ten digits of an NHS number written either
// as ten digits or in the 3-3-4 display form with single spaces
// ("943 476 5919"), after CheckNHSNumber. Any other spacing is an error.
func NormalizeNHSNumber(s string) (string, error) {
	if len(s) == 12 && s[3] == ' ' && s[7] == ' ' {
		s = s[:3] + s[4:7] + s[8:]
	}
	if err := CheckNHSNumber(s); err != nil {
		return "", err
	}
	return s, nil
}
