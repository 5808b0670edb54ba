// Package recordtest builds realistic [record.Record] values for the tests
// of the packages that encode records (FHIR, HL7 v2). It is used only by
// tests.
//
// Every builder returns a new record: a Masimo pulse oximeter at
// St Elsewhere, Ward 7, Bed 3 (gateway gw-ward7), with a device clock in
// British Summer Time an hour and a second ahead of the gateway's receive
// time, a test NHS number, and observation ids derived the way the gateway
// derives them. Tests change the copy they get to make their own cases.
package recordtest
