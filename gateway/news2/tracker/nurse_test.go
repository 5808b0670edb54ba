package tracker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedgate/bedgate/gateway/news2"
)

func TestParseNurseEntry(t *testing.T) {
	bst := time.FixedZone("", 3600)
	tests := []struct {
		name string
		in   string
		want NurseEntry
	}{
		{"both", `{"nhs_number":"9449305552","acvpu":"A","air_or_oxygen":"air","time":"2026-11-26T09:30:00Z","id":"epr-obs-7f3a"}`,
			NurseEntry{ACVPU: news2.Alert, Breathing: news2.Air, Time: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC), ID: "epr-obs-7f3a"}},
		{"acvpu only, offset", `{"nhs_number":"9449305552","acvpu":"U","time":"2026-06-11T10:15:30.5+01:00","id":"1"}`,
			NurseEntry{ACVPU: news2.Unresponsive, Time: time.Date(2026, 6, 11, 10, 15, 30, 5e8, bst), ID: "1"}},
		{"oxygen only, null acvpu", `{"nhs_number":"9449305552","acvpu":null,"air_or_oxygen":"oxygen","time":"2026-06-11T09:00:00Z","id":"x"}`,
			NurseEntry{Breathing: news2.Oxygen, Time: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), ID: "x"}},
		{"every level", `{"nhs_number":"9449305552","acvpu":"C","time":"2026-06-11T09:00:00Z","id":"c"}`,
			NurseEntry{ACVPU: news2.Confusion, Time: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), ID: "c"}},
		{"voice, whitespace", " {\"local_id\": \"RX1-7\", \"acvpu\": \"V\", \"time\": \"2026-06-11T09:00:00Z\", \"id\": \"v\"}\n",
			NurseEntry{ACVPU: news2.Voice, Time: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), ID: "v"}},
		{"pain", `{"nhs_number":"9449305552","acvpu":"P","time":"2026-06-11T09:00:00Z","id":"p"}`,
			NurseEntry{ACVPU: news2.Pain, Time: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), ID: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNurseEntry([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got.Patient.NHSNumber == "" && got.Patient.LocalID == "" {
				t.Errorf("no patient: %+v", got)
			}
			if got.ACVPU != tt.want.ACVPU || got.Breathing != tt.want.Breathing || !got.Time.Equal(tt.want.Time) || got.ID != tt.want.ID {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if _, off := got.Time.Zone(); off != func() int { _, o := tt.want.Time.Zone(); return o }() {
				t.Errorf("zone offset lost: %v", got.Time)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate of a parsed entry: %v", err)
			}
		})
	}
}

func TestParseNurseEntryErrors(t *testing.T) {
	const tm = `"nhs_number":"9449305552","time":"2026-06-11T09:00:00Z"`
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "empty message"},
		{"blank", " \n", "empty message"},
		{"not json", `acvpu=A`, "invalid character"},
		{"array", `["A"]`, "cannot unmarshal array"},
		{"unknown field", `{"avpu":"A",` + tm + `,"id":"1"}`, `unknown field "avpu"`},
		{"lower-case acvpu", `{"acvpu":"a",` + tm + `,"id":"1"}`, `acvpu "a" is not one of`},
		{"word acvpu", `{"acvpu":"Alert",` + tm + `,"id":"1"}`, `acvpu "Alert"`},
		{"acvpu number", `{"acvpu":1,` + tm + `,"id":"1"}`, "cannot unmarshal number"},
		{"breathing spelling", `{"air_or_oxygen":"O2",` + tm + `,"id":"1"}`, `air_or_oxygen "O2" is not "air" or "oxygen"`},
		{"neither", `{` + tm + `,"id":"1"}`, "neither acvpu nor air_or_oxygen"},
		{"no time", `{"acvpu":"A","nhs_number":"9449305552","id":"1"}`, "time is required"},
		{"no patient", `{"acvpu":"A","time":"2026-06-11T09:00:00Z","id":"1"}`, "names no patient"},
		{"bad NHS number", `{"acvpu":"A","nhs_number":"9449305553","time":"2026-06-11T09:00:00Z","id":"1"}`, "nhs_number: "},
		{"local id with control", `{"acvpu":"A","local_id":"a\u0007","time":"2026-06-11T09:00:00Z","id":"1"}`, "local_id has control characters"},
		{"local id not UTF-8", "{\"acvpu\":\"A\",\"local_id\":\"a\xff\",\"time\":\"2026-06-11T09:00:00Z\",\"id\":\"1\"}", "not UTF-8"},
		{"time without zone", `{"acvpu":"A","time":"2026-06-11T09:00:00","id":"1"}`, "not RFC 3339 with a zone offset"},
		{"time as date", `{"acvpu":"A","time":"2026-06-11","id":"1"}`, "not RFC 3339"},
		{"no id", `{"acvpu":"A",` + tm + `}`, "id is required"},
		{"empty id", `{"acvpu":"A",` + tm + `,"id":""}`, "id is empty"},
		{"long id", `{"acvpu":"A",` + tm + `,"id":"` + strings.Repeat("x", MaxEntryIDLen+1) + `"}`, "more than 128"},
		{"control in id", `{"acvpu":"A",` + tm + `,"id":"a\nb"}`, "control characters"},
		{"trailing data", `{"acvpu":"A",` + tm + `,"id":"1"} {}`, "data after the JSON object"},
		{"too long", `{"acvpu":"A",` + tm + `,"id":"1"}` + strings.Repeat(" ", MaxNurseEntryLen), "more than 4096"},
		{"not utf-8", "{\"acvpu\":\"A\",\"id\":\"\xff\"," + tm + "}", "not UTF-8"},
		{"several problems", `{"acvpu":"X","air_or_oxygen":"nasal"}`, `acvpu "X" is not one of "A", "C", "V", "P", "U"; air_or_oxygen "nasal" is not "air" or "oxygen"; time is required; id is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNurseEntry([]byte(tt.in))
			if !errors.Is(err, ErrNurseEntry) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseNurseEntry = %+v, %v; want ErrNurseEntry containing %q", got, err, tt.want)
			}
			if got != (NurseEntry{}) {
				t.Errorf("entry %+v returned with an error", got)
			}
		})
	}
}

func TestNurseTopic(t *testing.T) {
	b := Bed{Site: "St Elsewhere", Ward: "Ward 7", Name: "Bed 3"}
	if got, want := NurseTopic(b), "bedgate/v1/St Elsewhere/Ward 7/Bed 3/nurse"; got != want {
		t.Errorf("NurseTopic = %q, want %q", got, want)
	}
	if got, want := NurseFilter("St Elsewhere", "Ward 7"), "bedgate/v1/St Elsewhere/Ward 7/+/nurse"; got != want {
		t.Errorf("NurseFilter = %q, want %q", got, want)
	}
	if got, err := ParseNurseTopic(NurseTopic(b)); err != nil || got != b {
		t.Errorf("ParseNurseTopic(NurseTopic) = %+v, %v", got, err)
	}
	for _, bad := range []string{
		"bedgate/v1/s/w/b/obs", "bedgate/v1/s/w/b/nurse/x", "bedgate/v2/s/w/b/nurse", "bedgate/v1/s/w/+/nurse",
		"bedgate/v1/s//b/nurse", "bedgate/v1/s/w/#/nurse", "",
	} {
		if got, err := ParseNurseTopic(bad); !errors.Is(err, ErrTopic) {
			t.Errorf("ParseNurseTopic(%q) = %+v, %v; want ErrTopic", bad, got, err)
		}
	}
}
