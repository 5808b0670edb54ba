// Package record defines the gateway's unit of work: a Record is one device
// reading after validation and association, in a neutral form that the
// encoders (gateway/fhir, gateway/hl7) turn into messages. The gateway
// encodes each record as it stores it in the outbox, with the sequence
// number it is stored under, so the outbox holds finished messages.
package record
