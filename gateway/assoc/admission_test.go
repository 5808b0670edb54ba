package assoc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/record"
)

func TestParseAdmission(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    Admission
		wantErr error
	}{
		{"admit with both identifiers",
			`{"event":"admit","nhs_number":"9990000018","local_id":"RX1-0042","time":"2026-11-26T09:30:00Z","id":"m1"}`,
			Admission{Admit, record.Patient{NHSNumber: "9990000018", LocalID: "RX1-0042"}, at, "m1"}, nil},
		{"transfer-in with a zone offset is kept as UTC",
			`{"event":"transfer-in","nhs_number":"9990000026","time":"2026-11-26T10:30:00+01:00","id":"m2"}`,
			Admission{TransferIn, record.Patient{NHSNumber: "9990000026"}, at, "m2"}, nil},
		{"admit with local id only",
			`{"event":"admit","local_id":"L7","time":"2026-11-26T09:30:00Z","id":"m3"}`,
			Admission{Admit, record.Patient{LocalID: "L7"}, at, "m3"}, nil},
		{"display-form NHS number is normalised",
			`{"event":"admit","nhs_number":"943 476 5919","time":"2026-11-26T09:30:00Z","id":"m4"}`,
			Admission{Admit, record.Patient{NHSNumber: "9434765919"}, at, "m4"}, nil},
		{"discharge naming nobody",
			`{"event":"discharge","time":"2026-11-26T09:30:00Z","id":"m5"}`,
			Admission{Discharge, record.Patient{}, at, "m5"}, nil},
		{"fractional seconds and unknown fields",
			`{"event":"transfer-out","time":"2026-11-26T09:30:00.250Z","id":"m6","ward_name":"Ward 7"}`,
			Admission{TransferOut, record.Patient{}, at.Add(250 * time.Millisecond), "m6"}, nil},

		{"not JSON", `event=admit`, Admission{}, ErrMalformed},
		{"empty payload", ``, Admission{}, ErrMalformed},
		{"truncated", `{"event":"admit"`, Admission{}, ErrMalformed},
		{"array", `[]`, Admission{}, ErrMalformed},
		{"NHS number as a JSON number", `{"event":"admit","nhs_number":9990000018,"time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrMalformed},
		{"local_id not UTF-8 (decoding would mangle it)", "{\"event\":\"admit\",\"local_id\":\"RX\xff1\",\"time\":\"2026-11-26T09:30:00Z\",\"id\":\"m\"}", Admission{}, ErrMalformed},
		{"over MaxAdmissionLen", `{"event":"discharge","time":"2026-11-26T09:30:00Z","id":"m","pad":"` + strings.Repeat("x", MaxAdmissionLen) + `"}`, Admission{}, ErrMalformed},
		{"two objects", `{"event":"discharge","time":"2026-11-26T09:30:00Z","id":"m"}{}`, Admission{}, ErrMalformed},
		{"unknown event", `{"event":"admitted","nhs_number":"9990000018","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrEvent},
		{"missing event", `{"nhs_number":"9990000018","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrEvent},
		{"event in capitals", `{"event":"ADMIT","nhs_number":"9990000018","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrEvent},
		{"NHS number failing Modulus 11", `{"event":"admit","nhs_number":"9990000019","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrNHSNumber},
		{"NHS number with check digit 10", `{"event":"admit","nhs_number":"1234567890","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrNHSNumber},
		{"invalid NHS number on a discharge", `{"event":"discharge","nhs_number":"123","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrNHSNumber},
		{"admit naming nobody", `{"event":"admit","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrNoPatient},
		{"local id with a newline", `{"event":"admit","local_id":"a\nb","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrLocalID},
		{"local id too long", `{"event":"admit","local_id":"` + strings.Repeat("x", MaxLocalIDLen+1) + `","time":"2026-11-26T09:30:00Z","id":"m"}`, Admission{}, ErrLocalID},
		{"missing time", `{"event":"admit","nhs_number":"9990000018","id":"m"}`, Admission{}, ErrTime},
		{"time without zone", `{"event":"admit","nhs_number":"9990000018","time":"2026-11-26T09:30:00","id":"m"}`, Admission{}, ErrTime},
		{"time as a date", `{"event":"admit","nhs_number":"9990000018","time":"2026-11-26","id":"m"}`, Admission{}, ErrTime},
		{"missing id", `{"event":"admit","nhs_number":"9990000018","time":"2026-11-26T09:30:00Z"}`, Admission{}, ErrID},
		{"id too long", `{"event":"discharge","time":"2026-11-26T09:30:00Z","id":"` + strings.Repeat("i", MaxIDLen+1) + `"}`, Admission{}, ErrID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAdmission([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "9990000018") || strings.Contains(err.Error(), "9990000019") {
					t.Fatalf("error %q repeats the NHS number", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.Event != tt.want.Event || got.Patient != tt.want.Patient || !got.Time.Equal(tt.want.Time) || got.ID != tt.want.ID {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.Time.Location() != time.UTC {
				t.Fatalf("time %v not in UTC", got.Time)
			}
		})
	}
}

func TestAdmissionRoundTrip(t *testing.T) {
	in := Admission{TransferIn, record.Patient{NHSNumber: "9434765919", LocalID: "H1"}, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "x-1"}
	b, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseAdmission(b)
	if err != nil {
		t.Fatalf("ParseAdmission(%s): %v", b, err)
	}
	if out.Event != in.Event || out.Patient != in.Patient || !out.Time.Equal(in.Time) || out.ID != in.ID {
		t.Fatalf("round trip: %+v -> %s -> %+v", in, b, out)
	}
}

func TestAdmissionTopic(t *testing.T) {
	topic := AdmissionTopic("rx1", "ward7", "bed3")
	if topic != "bedgate/v1/rx1/ward7/bed3/admission" {
		t.Fatalf("AdmissionTopic = %q", topic)
	}
	if f := AdmissionFilter("rx1", "ward7"); f != "bedgate/v1/rx1/ward7/+/admission" {
		t.Fatalf("AdmissionFilter = %q", f)
	}
	site, ward, bed, err := ParseAdmissionTopic(topic)
	if err != nil || site != "rx1" || ward != "ward7" || bed != "bed3" {
		t.Fatalf("ParseAdmissionTopic = %q %q %q %v", site, ward, bed, err)
	}
	for _, bad := range []string{
		"bedgate/v1/rx1/ward7/bed3/obs",
		"bedgate/v1/rx1/ward7/admission",
		"bedgate/v2/rx1/ward7/bed3/admission",
		"bedgate/v1/rx1/ward7//admission",
		"bedgate/v1/rx1/ward7/+/admission",
		"bedgate/v1/rx1/ward7/bed3/admission/x",
		"",
	} {
		if _, _, _, err := ParseAdmissionTopic(bad); !errors.Is(err, ErrTopic) {
			t.Errorf("ParseAdmissionTopic(%q) = %v, want ErrTopic", bad, err)
		}
	}
}
