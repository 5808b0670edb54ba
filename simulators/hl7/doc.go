// Package hl7 simulates a central station that forwards its monitors'
// readings as IHE PCD-01 HL7 v2.6 ORU^R01 messages over MLLP, the way a
// Philips PIC iX or GE CARESCAPE Gateway feeds a hospital system: one
// message per monitor and reading, PV1-3 naming the bed, OBX-18 the
// monitor, each sent again until it is acknowledged AA.
package hl7
