package gateway_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/bedgate/bedgate/drivers/masimo"
	"github.com/bedgate/bedgate/gateway"
	"github.com/bedgate/bedgate/gateway/fhir"
	"github.com/bedgate/bedgate/gateway/hl7"
	"github.com/bedgate/bedgate/gateway/publish"
	"github.com/bedgate/bedgate/gateway/record"
)

// masimoRecord is a real Masimo Radical-7 line (ASCII 1 mode) parsed by the
// driver and turned into a record by Bed.Observe, as the gateway does,
// with or without a patient.
func masimoRecord(t testing.TB, patient bool) record.Record {
	t.Helper()
	line := "11/02/24 07:15:05 SN=0000070123 SPO2=099% BPM=061 PI=04.10% SPCO=--.-% ALARM=0000 EXC=000800"
	rd, err := masimo.ParseLine([]byte(line), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	rd.ReceivedAt = rd.DeviceTime.Add(300 * time.Millisecond)
	bed := gateway.Bed{Gateway: "gw-ward7-01", Site: "rvh", Ward: "ward7", Name: "bed-12", Device: "bed12-spo2"}
	rec := bed.Observe(rd)
	if patient {
		rec.Patient = &record.Patient{NHSNumber: "9434765919"}
	}
	if len(rec.Observations) != 3 {
		t.Fatalf("the Masimo line gave %d observations, want SpO2, pulse rate and perfusion index", len(rec.Observations))
	}
	return rec
}

// TestMasimoReadingBytes measures what one Masimo reading costs on the wire
// (the MQTT payload) and in the outbox (the S2-compressed envelope the
// outbox stores), in FHIR with and without a patient and in HL7 v2, with
// the real encoders. The FHIR Bundle of a reading carries its three
// Observations only; the bed's context Bundle (Location, Device, three
// DeviceMetrics), sent once, is reported beside it. Run with -v for the
// figures.
func TestMasimoReadingBytes(t *testing.T) {
	f, err := fhir.New(fhir.Options{Incarnation: "0123456789ab"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := hl7.New(hl7.Options{Incarnation: "0123456789ab"})
	if err != nil {
		t.Fatal(err)
	}
	const seq = 123456
	for _, patient := range []bool{false, true} {
		rec := masimoRecord(t, patient)
		body, err := f.Encode(rec, seq)
		if err != nil {
			t.Fatal(err)
		}
		ctx := rec
		ctx.Kind, ctx.Observations, ctx.Patient, ctx.Metrics = record.KindContext, nil, nil, f.Metrics(rec)
		ctxBody, err := f.Encode(ctx, seq-1)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{`"Location"`, `"Device"`, `"DeviceMetric"`} {
			if bytes.Contains(body, []byte(`"resourceType":`+kind)) {
				t.Errorf("patient %v: the reading's Bundle re-sends a %s", patient, kind)
			}
			if !bytes.Contains(ctxBody, []byte(`"resourceType":`+kind)) {
				t.Errorf("patient %v: the context Bundle has no %s", patient, kind)
			}
		}
		// Carrying the context in every Bundle, as before, would cost the
		// context's entries again per reading: the lean Bundle must be at
		// most 60 % of that.
		if whole := len(body) + len(ctxBody); 10*len(body) > 6*whole {
			t.Errorf("patient %v: reading Bundle %d bytes, %d with its context: not lean", patient, len(body), whole)
		}
		t.Logf("FHIR, patient %-5v: reading %5d B on the wire, %5d B stored; context Bundle %5d B on the wire, %5d B stored (once per bed and start)",
			patient, len(body), len(publish.Envelope(rec.Topic, body)), len(ctxBody), len(publish.Envelope(rec.Topic, ctxBody)))
		msg, err := h.Encode(rec, seq)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("HL7,  patient %-5v: message %5d B on the wire, %5d B stored", patient, len(msg), len(publish.Envelope(rec.Topic, msg)))
	}
}
