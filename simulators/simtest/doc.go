// Package simtest runs simulated monitors for tests: a pseudo-terminal that
// closes at the end of the test, a device clock that runs fast, and a
// simulated device of any registered kind running until the test ends. It is
// for tests only.
package simtest
