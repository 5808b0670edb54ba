// Package conformancetest runs the project's independent conformance
// validators (validate-fhir and validate-hl7, kept in the shared folder
// next to the repository, ../shared/conformance) from Go tests.
//
// It is used only by tests: [Validate] takes a testing.TB, skips the test
// when the shared folder or Node.js is absent, runs the validators' setup
// when they ask for it, and fails the test when a validator cannot run.
// The gateway itself never imports it.
package conformancetest
