// Package mllp receives HL7 v2 messages over MLLP (the Minimal Lower Layer
// Protocol: each message framed by 0x0B ... 0x1C 0x0D on a TCP connection,
// optionally TLS) and acknowledges each one in original mode.
//
// The acknowledgement follows durability: a message is answered AA only
// after the Acceptor has returned, and the gateway's Acceptor returns only
// once the readings are synced in the outbox. A message it cannot take is
// answered AE or AR with an ERR segment naming the problem (HL7 table 0357
// condition, location, text); see Code.
//
// A resent message (the same MSH-10 from the same MSH-3/MSH-4) is
// answered AA without being taken again, as long as it is among the last
// Options.Remember acknowledged (DefaultRemember; memory only). After a
// restart, or further back, a resent message is taken again: its readings
// carry the same observation identifiers (gateway, device, code and device
// time), so the EPR files them once (a FHIR conditional create on the
// identifier).
//
// Messages on one connection are answered in order, one at a time; a
// sender that hangs up before its acknowledgement does not interrupt the
// storing of its message.
package mllp
