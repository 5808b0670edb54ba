package hl7

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bedgate/bedgate/drivers"
	"github.com/bedgate/bedgate/gateway/record"
	"github.com/bedgate/bedgate/gateway/record/recordtest"
)

// message is an encoded message split into segments and fields.
type message []segmentFields

type segmentFields struct {
	name   string
	fields []string // fields[n] is field n; for MSH, fields[1] is "|"
}

// parse splits msg on "\r" and "|". It fails the test when a segment does
// not end with "\r" or the message is empty.
func parse(t *testing.T, msg []byte) message {
	t.Helper()
	if len(msg) == 0 || msg[len(msg)-1] != '\r' {
		t.Fatalf("message does not end with a segment terminator: %q", msg)
	}
	var m message
	for _, s := range strings.Split(strings.TrimSuffix(string(msg), "\r"), "\r") {
		parts := strings.Split(s, "|")
		f := segmentFields{name: parts[0]}
		if f.name == "MSH" {
			f.fields = append([]string{"MSH", "|"}, parts[1:]...)
		} else {
			f.fields = parts
		}
		m = append(m, f)
	}
	return m
}

// field returns field n of the occurrence-th (1-based) segment named name,
// "" when the field is absent, and whether the segment exists.
func (m message) field(name string, occurrence, n int) (string, bool) {
	for _, s := range m {
		if s.name != name {
			continue
		}
		if occurrence--; occurrence > 0 {
			continue
		}
		if n < len(s.fields) {
			return s.fields[n], true
		}
		return "", true
	}
	return "", false
}

func (m message) names() string {
	var names []string
	for _, s := range m {
		names = append(names, s.name)
	}
	return strings.Join(names, " ")
}

func encode(t *testing.T, opts Options, r record.Record, seq uint64) message {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode(r, seq)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, b)
}

// loc names a field: segment, its occurrence (1-based) and field number.
type loc struct {
	seg string
	occ int
	n   int
}

func (l loc) String() string { return fmt.Sprintf("%s[%d]-%d", l.seg, l.occ, l.n) }

func TestFields(t *testing.T) {
	pulseOxEUI := DeviceEUI64(recordtest.PulseOximetry())
	gwEUI := GatewayEUI64("gw-ward7")
	tests := []struct {
		name     string
		opts     Options
		record   record.Record
		seq      uint64
		segments string
		want     map[loc]string
	}{
		{
			name:     "pulse oximetry with a patient",
			record:   recordtest.PulseOximetry(),
			seq:      42,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"MSH", 1, 2}:  `^~\&`,
				{"MSH", 1, 3}:  "BEDGATE^" + gwEUI + "^EUI-64",
				{"MSH", 1, 4}:  "St Elsewhere",
				{"MSH", 1, 5}:  "",
				{"MSH", 1, 7}:  "20260611081501.250+0000",
				{"MSH", 1, 9}:  "ORU^R01^ORU_R01",
				{"MSH", 1, 10}: "gw-ward7-42",
				{"MSH", 1, 11}: "P",
				{"MSH", 1, 12}: "2.6",
				{"MSH", 1, 13}: "42",
				{"MSH", 1, 15}: "AL",
				{"MSH", 1, 16}: "NE",
				{"MSH", 1, 18}: "UNICODE UTF-8",
				{"MSH", 1, 21}: "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
				{"PID", 1, 3}:  "9449305552^^^NHS^NH",
				{"PV1", 1, 2}:  "I",
				{"PV1", 1, 3}:  "Ward 7^^Bed 3^St Elsewhere",
				{"OBR", 1, 3}:  "gw-ward7-42^BEDGATE^" + gwEUI + "^EUI-64",
				{"OBR", 1, 4}:  "182777000^monitoring of patient^SCT",
				{"OBR", 1, 7}:  "20260611081500.000+0000", // device time, in UTC
				// MDS row
				{"OBX", 1, 1}:  "1",
				{"OBX", 1, 2}:  "",
				{"OBX", 1, 3}:  "69641^MDC_DEV_ANALY_SAT_O2_MDS^MDC",
				{"OBX", 1, 4}:  "1.0.0.0",
				{"OBX", 1, 11}: "X",
				{"OBX", 1, 18}: pulseOxEUI + "^^" + pulseOxEUI + "^EUI-64",
				// SpO2
				{"OBX", 2, 1}:  "2",
				{"OBX", 2, 2}:  "NM",
				{"OBX", 2, 3}:  "150456^MDC_PULS_OXIM_SAT_O2^MDC",
				{"OBX", 2, 4}:  "1.0.0.1",
				{"OBX", 2, 5}:  "97",
				{"OBX", 2, 6}:  "262688^MDC_DIM_PERCENT^MDC",
				{"OBX", 2, 8}:  "",
				{"OBX", 2, 11}: "R",
				{"OBX", 2, 14}: "", // OBR-7 applies
				{"OBX", 2, 18}: "",
				{"OBX", 2, 21}: recordtest.PulseOximetry().Observations[0].ID,
				// pulse rate
				{"OBX", 3, 3}: "149530^MDC_PULS_OXIM_PULS_RATE^MDC",
				{"OBX", 3, 4}: "1.0.0.2",
				{"OBX", 3, 5}: "72",
				{"OBX", 3, 6}: "264864^MDC_DIM_BEAT_PER_MIN^MDC",
			},
		},
		{
			name: "options and time zone",
			opts: Options{
				SendingApplication: "GW^1.2.826.0.1.999^ISO", SendingFacility: "RXX01",
				ReceivingApplication: "EPR", ReceivingFacility: "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO",
				ProcessingID: "T", Location: recordtest.Zone(),
			},
			record:   recordtest.PulseOximetry(),
			seq:      7,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"MSH", 1, 3}:  "GW^1.2.826.0.1.999^ISO",
				{"MSH", 1, 4}:  "RXX01",
				{"MSH", 1, 5}:  "EPR",
				{"MSH", 1, 6}:  "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO",
				{"MSH", 1, 7}:  "20260611091501.250+0100",
				{"MSH", 1, 11}: "T",
				{"OBR", 1, 3}:  "gw-ward7-7^GW^1.2.826.0.1.999^ISO",
				{"OBR", 1, 7}:  "20260611091500.000+0100",
				{"OBX", 2, 14}: "",
			},
		},
		{
			name:     "local patient number with an HD authority",
			opts:     Options{LocalIDAuthority: "RXX01^2.16.840.1.113883.2.1.3.2.4.18.48^ISO"},
			record:   localPatient(),
			seq:      2,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"PID", 1, 3}: "9449305552^^^NHS^NH~RX1234567^^^RXX01&2.16.840.1.113883.2.1.3.2.4.18.48&ISO^MR",
			},
		},
		{
			name:     "monitor without patient, serial or device clock",
			record:   recordtest.MonitorNoPatient(),
			seq:      1,
			segments: "MSH PID PV1 OBR OBX OBX OBX OBX OBX OBX OBX OBX",
			want: map[loc]string{
				{"PID", 1, 3}:  "St Elsewhere/Ward 7/Bed 3^^^BEDGATE-BED^U",
				{"OBR", 1, 7}:  "20260611081501.250+0000", // receive time
				{"OBX", 1, 3}:  "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC",
				{"OBX", 1, 18}: DeviceEUI64(recordtest.MonitorNoPatient()) + "^^" + DeviceEUI64(recordtest.MonitorNoPatient()) + "^EUI-64",
				{"OBX", 3, 6}:  "264928^MDC_DIM_RESP_PER_MIN^MDC", // "/min" of a respiratory rate
				{"OBX", 4, 5}:  "37.2",
				{"OBX", 4, 6}:  "268192^MDC_DIM_DEGC^MDC",
				{"OBX", 5, 6}:  "266016^MDC_DIM_MMHG^MDC",
				{"OBX", 8, 3}:  "151708^MDC_AWAY_CO2_ET^MDC",
				{"OBX", 8, 4}:  "1.0.0.7",
				{"OBX", 8, 5}:  "5.1",
				{"OBX", 8, 6}:  "265987^MDC_DIM_KILO_PASCAL^MDC",
				{"OBX", 8, 14}: "",
			},
		},
		{
			name:     "sensor off: no values",
			record:   recordtest.SensorOff(),
			seq:      3,
			segments: "MSH PID PV1 OBR OBX OBX NTE NTE OBX NTE",
			want: map[loc]string{
				{"OBX", 2, 2}:  "NM",
				{"OBX", 2, 5}:  "",
				{"OBX", 2, 6}:  "262688^MDC_DIM_PERCENT^MDC",
				{"OBX", 2, 8}:  "INV~NAV",
				{"OBX", 2, 11}: "X",
				{"NTE", 1, 1}:  "1",
				{"NTE", 1, 3}:  "sensor off",
				{"NTE", 2, 1}:  "2",
				{"NTE", 2, 3}:  "no value: error",
				{"OBX", 3, 5}:  "",
				{"OBX", 3, 8}:  "NAV",
				{"OBX", 3, 11}: "X",
				{"NTE", 3, 3}:  "no value: not-performed",
			},
		},
		{
			name:     "questionable values",
			record:   recordtest.Questionable(),
			seq:      4,
			segments: "MSH PID PV1 OBR OBX OBX NTE OBX NTE",
			want: map[loc]string{
				{"OBX", 2, 5}:  "91",
				{"OBX", 2, 8}:  "QUES~ALACT",
				{"OBX", 2, 11}: "R",
				{"NTE", 1, 2}:  "L",
				{"NTE", 1, 3}:  "questionable: device reports low perfusion",
				{"OBX", 3, 8}:  "QUES",
				{"OBX", 3, 11}: "R",
			},
		},
		{
			name:     "demo and calibrating",
			record:   demo(),
			seq:      5,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"OBX", 2, 8}:  "DEMO",
				{"OBX", 3, 8}:  "CAL~DEMO",
				{"OBX", 3, 11}: "R",
			},
		},
		{
			name:     "special values",
			record:   specials(),
			seq:      6,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"OBX", 2, 5}:  "",
				{"OBX", 2, 8}:  "INV",
				{"OBX", 2, 11}: "X",
				{"OBX", 3, 5}:  "",
				{"OBX", 3, 8}:  ">",
				{"OBX", 3, 11}: "X",
			},
		},
		{
			name:     "device observations and labels",
			record:   deviceObservations(),
			seq:      8,
			segments: "MSH PID PV1 OBR OBX OBX OBX OBX OBX OBX OBX OBX NTE",
			want: map[loc]string{
				{"OBX", 3, 3}:  "150448^MDC_PULS_OXIM_PERF_REL^MDC",
				{"OBX", 3, 5}:  "2.35",
				{"OBX", 4, 3}:  "160128^MDC_CONC_HB_CO_GEN^MDC", // not in the terminology table
				{"OBX", 4, 6}:  "262688^MDC_DIM_PERCENT^MDC",
				{"OBX", 5, 3}:  strconv.Itoa(int(PrivateCode("masimo", "PVI"))) + "^PVI^MDC^masimo:PVI^PVI^99BGT",
				{"OBX", 5, 5}:  "14",
				{"OBX", 6, 5}:  "-3",
				{"OBX", 7, 5}:  "0",
				{"OBX", 7, 6}:  "1^1^UCUM",
				{"OBX", 8, 6}:  "mL/dL^mL/dL^UCUM",
				{"OBX", 8, 8}:  "NAV",
				{"OBX", 8, 11}: "X",
			},
		},
		{
			name:     "local patient number and escaped names",
			record:   localPatient(),
			seq:      9,
			segments: "MSH PID PV1 OBR OBX OBX OBX",
			want: map[loc]string{
				{"MSH", 1, 4}: `St Mary \T\ St John`,
				{"PID", 1, 3}: `9449305552^^^NHS^NH~RX1234567^^^St Mary \T\ St John^MR`,
				{"PV1", 1, 3}: `Ward 7\F\East^^Bed 3\S\A\R\\E\B^St Mary \T\ St John`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := encode(t, tt.opts, tt.record, tt.seq)
			if got := m.names(); got != tt.segments {
				t.Errorf("segments\n got %s\nwant %s", got, tt.segments)
			}
			for l, want := range tt.want {
				got, ok := m.field(l.seg, l.occ, l.n)
				if !ok {
					t.Errorf("%v: no such segment", l)
				} else if got != want {
					t.Errorf("%v = %q, want %q", l, got, want)
				}
			}
		})
	}
}

// TestOBXNumbering checks, for every fixture, that OBX-1 counts the rows,
// that OBX-4 sub-ids are the MDS row then 1.0.0.n in record order, that
// every value row carries its observation id in OBX-21 and leaves OBX-14
// to OBR-7, and that NTE set ids restart after each OBR and OBX.
func TestOBXNumbering(t *testing.T) {
	for _, r := range []record.Record{recordtest.PulseOximetry(), recordtest.MonitorNoPatient(), recordtest.SensorOff(), deviceObservations(), specials()} {
		m := encode(t, Options{}, r, 1)
		obx, nte := 0, 0
		for _, s := range m {
			switch s.name {
			case "OBR":
				nte = 0
			case "OBX":
				obx++
				nte = 0
				if s.fields[1] != strconv.Itoa(obx) {
					t.Errorf("OBX %d: OBX-1 = %q", obx, s.fields[1])
				}
				wantSub := "1.0.0." + strconv.Itoa(obx-1)
				if s.fields[4] != wantSub {
					t.Errorf("OBX %d: OBX-4 = %q, want %q", obx, s.fields[4], wantSub)
				}
				if obx == 1 {
					continue
				}
				o := r.Observations[obx-2]
				if len(s.fields) <= 21 || s.fields[21] != o.ID {
					t.Errorf("OBX %d: OBX-21 = %q, want observation id %s", obx, s.fields[21:], o.ID)
				}
				if len(s.fields) > 14 && s.fields[14] != "" {
					t.Errorf("OBX %d: OBX-14 %q repeats OBR-7", obx, s.fields[14])
				}
			case "NTE":
				nte++
				if s.fields[1] != strconv.Itoa(nte) {
					t.Errorf("NTE after OBX %d: NTE-1 = %q, want %d", obx, s.fields[1], nte)
				}
			}
		}
		if obx != 1+len(r.Observations) {
			t.Errorf("%d OBX rows for %d observations", obx, len(r.Observations))
		}
	}
}

// TestDeterministic encodes each fixture twice, and once more after a JSON
// round trip (the buffer stores records as JSON, and re-delivery encodes
// the stored copy): the bytes must be identical. Records with NaN or
// infinite values cannot be stored as JSON, so the last fixture is only
// encoded twice.
func TestDeterministic(t *testing.T) {
	e, err := New(Options{Location: recordtest.Zone()})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []record.Record{
		recordtest.PulseOximetry(), recordtest.MonitorNoPatient(), recordtest.SensorOff(), recordtest.Questionable(),
		localPatient(), deviceObservations(), demo(), specials(),
	} {
		first, err := e.Encode(r, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		second, _ := e.Encode(r, uint64(i))
		if !bytes.Equal(first, second) {
			t.Errorf("record %d: two encodings differ:\n%q\n%q", i, first, second)
		}
		if i == 7 { // specials
			continue
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back record.Record
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		stored, err := e.Encode(back, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, stored) {
			t.Errorf("record %d: encoding after a JSON round trip differs:\n%q\n%q", i, first, stored)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Bed 3", "Bed 3"},
		{"a|b", `a\F\b`},
		{"a^b", `a\S\b`},
		{"a~b", `a\R\b`},
		{`a\b`, `a\E\b`},
		{"a&b", `a\T\b`},
		{"line1\rline2\n", `line1\X0D\line2\X0A\`},
		{"tab\there\x7f", `tab\X09\here\X7F\`},
		{`\F\`, `\E\F\E\`},
		{"Ward é 7", "Ward é 7"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapedRecord puts delimiters and line breaks into every text the
// record carries: the message keeps its segment and field structure (the
// device's status word, model and unmeasured parameters are not sent).
func TestEscapedRecord(t *testing.T) {
	r := deviceObservations()
	r.Gateway = "gw|7"
	r.Site = "Site^A"
	r.Ward = "Ward~B"
	r.Bed = "Bed\r3"
	r.DeviceStatus = "EXC=1|ALARM=2\r\nMSH|^~\\&|"
	r.Device.Driver = "masi&mo"
	r.Device.Model = "Rad|7"
	r.Observations[3].Label = "P^VI"
	r.Observations[1].Questionable = true
	r.Observations[1].Reason = "low | perfusion\r"
	r.Unmeasured = []string{"SP~MET"}
	m := encode(t, Options{}, r, 12)
	if got, want := m.names(), "MSH PID PV1 OBR OBX OBX OBX NTE OBX OBX OBX OBX OBX NTE"; got != want {
		t.Fatalf("segments\n got %s\nwant %s", got, want)
	}
	want := map[loc]string{
		{"MSH", 1, 10}: `gw\F\7-12`,
		{"PV1", 1, 3}:  `Ward\R\B^^Bed\X0D\3^Site\S\A`,
		{"PID", 1, 3}:  `Site\S\A/Ward\R\B/Bed\X0D\3^^^BEDGATE-BED^U`,
		{"NTE", 1, 3}:  `questionable: low \F\ perfusion\X0D\`,
		{"OBX", 5, 3}:  strconv.Itoa(int(PrivateCode("masi&mo", "P^VI"))) + `^P\S\VI^MDC^masi\T\mo:P\S\VI^P\S\VI^99BGT`,
	}
	for l, w := range want {
		if got, _ := m.field(l.seg, l.occ, l.n); got != w {
			t.Errorf("%v = %q, want %q", l, got, w)
		}
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"zero value", Options{}, ""},
		{"HD with universal id", Options{ReceivingFacility: "RXX01^2.16.840.1.113883^ISO"}, ""},
		{"HD universal id only", Options{ReceivingFacility: "^2.16.840.1.113883^ISO"}, ""},
		{"training", Options{ProcessingID: "T"}, ""},
		{"debugging", Options{ProcessingID: "D"}, ""},
		{"bad processing id", Options{ProcessingID: "X"}, "ProcessingID"},
		{"field separator", Options{SendingFacility: "A|B"}, "SendingFacility"},
		{"sub-component", Options{ReceivingApplication: "A&B"}, "ReceivingApplication"},
		{"repetition", Options{LocalIDAuthority: "A~B"}, "LocalIDAuthority"},
		{"escape", Options{SendingApplication: `A\B`}, "SendingApplication"},
		{"control character", Options{ReceivingFacility: "A\rB"}, "control"},
		{"four components", Options{SendingApplication: "A^B^C^D"}, "three components"},
		{"universal id without type", Options{ReceivingFacility: "^1.2.3"}, "universal id"},
	}
	for _, tt := range tests {
		_, err := New(tt.opts)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: New: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "hl7: ")):
			t.Errorf("%s: New error = %v, want one naming %q with prefix hl7:", tt.name, err, tt.wantErr)
		}
	}
}

func TestEncodeInvalidRecord(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dup := recordtest.PulseOximetry()
	dup.Observations[1].ID = strings.ToUpper(dup.Observations[0].ID)
	badID := recordtest.PulseOximetry()
	badID.Observations[0].ID = "not-a-uuid"
	tests := []struct {
		name string
		r    record.Record
		want []string
	}{
		{"empty record", record.Record{}, []string{"no gateway id", "no bed", "no device key", "no receive time"}},
		{"duplicate id", dup, []string{"appears twice"}},
		{"bad id", badID, []string{`"not-a-uuid" is not a UUID`}},
	}
	for _, tt := range tests {
		b, err := e.Encode(tt.r, 1)
		if err == nil {
			t.Errorf("%s: Encode succeeded: %q", tt.name, b)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tt.name, err, w)
			}
		}
	}
}

// TestIncarnationInControlID: MSH-10 carries the outbox incarnation; MSH-13
// the bare sequence number.
func TestIncarnationInControlID(t *testing.T) {
	m := encode(t, Options{Incarnation: "3f9a0c12b7e4"}, recordtest.PulseOximetry(), 4711)
	if got, _ := m.field("MSH", 1, 10); got != "gw-ward7-3f9a0c12b7e4-4711" {
		t.Errorf("MSH-10 = %q", got)
	}
	if got, _ := m.field("MSH", 1, 13); got != "4711" {
		t.Errorf("MSH-13 = %q", got)
	}
}

func TestIdentifiers(t *testing.T) {
	for _, tt := range []struct{ gateway, incarnation, want string }{
		{"gw-ward7", "", "gw-ward7-1234"},
		{"gw-ward7", "3f9a0c12b7e4", "gw-ward7-3f9a0c12b7e4-1234"},
	} {
		if got := MessageControlID(tt.gateway, tt.incarnation, 1234); got != tt.want {
			t.Errorf("MessageControlID(%q, %q) = %q, want %q", tt.gateway, tt.incarnation, got, tt.want)
		}
	}
	eui := regexp.MustCompile(`^[0-9A-F]{16}$`)
	bySerial := recordtest.PulseOximetry()
	byKey := recordtest.MonitorNoPatient()
	otherGateway := recordtest.MonitorNoPatient()
	otherGateway.Gateway = "gw-ward8"
	sameSerialOtherGateway := recordtest.PulseOximetry()
	sameSerialOtherGateway.Gateway = "gw-ward8"
	ids := map[string]string{
		"serial":                     DeviceEUI64(bySerial),
		"configured name":            DeviceEUI64(byKey),
		"configured name, gateway 8": DeviceEUI64(otherGateway),
		"gateway":                    GatewayEUI64("gw-ward7"),
	}
	seen := map[string]string{}
	for name, id := range ids {
		if !eui.MatchString(id) {
			t.Errorf("%s: EUI-64 %q is not 16 upper-case hex digits", name, id)
			continue
		}
		first, _ := strconv.ParseUint(id[:2], 16, 8)
		if first&0x02 == 0 || first&0x01 != 0 {
			t.Errorf("%s: EUI-64 %s: first octet %02X is not locally administered and individual", name, id, first)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share EUI-64 %s", name, other, id)
		}
		seen[id] = name
	}
	if DeviceEUI64(sameSerialOtherGateway) != DeviceEUI64(bySerial) {
		t.Error("a device known by its serial has a different EUI-64 at another gateway")
	}
	if DeviceEUI64(bySerial) != DeviceEUI64(recordtest.PulseOximetry()) {
		t.Error("DeviceEUI64 is not stable")
	}

	// Private codes of the labels the masimo driver sends without an MDC
	// code: in the private range of partition 2, distinct, stable.
	codes := map[uint32]string{}
	for _, label := range []string{"SPOC", "PVI", "DESAT", "PIDELTA"} {
		c := PrivateCode("masimo", label)
		if c < 2<<16|0xF000 || c > 2<<16|0xFFFF {
			t.Errorf("PrivateCode(masimo, %s) = %d, outside 2::61440..2::65535", label, c)
		}
		if other, dup := codes[c]; dup {
			t.Errorf("labels %s and %s share private code %d", label, other, c)
		}
		codes[c] = label
		if PrivateCode("masimo", label) != c {
			t.Errorf("PrivateCode(masimo, %s) is not stable", label)
		}
	}
}

func TestContentType(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ContentType(); got != "application/hl7-v2" {
		t.Errorf("ContentType = %q", got)
	}
}

// TestUnits covers OBX-6 for units the table knows for the measurement,
// units it knows only in general, and units it does not know.
func TestUnits(t *testing.T) {
	r := recordtest.Base()
	obs := func(mdc uint32, unit string) record.Observation {
		o := recordtest.Obs(r, mdc, "", recordtest.Float(1), unit)
		o.ID = recordtest.ObsID(r.Gateway, r.DeviceKey+unit, mdc, r.DeviceTime)
		return o
	}
	r.Observations = []record.Observation{
		obs(150364, "[degF]"), // known measurement, second unit
		obs(151708, "mm[Hg]"), // known measurement, first unit
		obs(999999, "/min"),   // unknown measurement: "/min" is beats or breaths
		obs(999998, "Cel"),    // unknown measurement, unit with one MDC dimension
		obs(150456, "/min"),   // known measurement in a unit it is not measured in
		obs(999997, ""),       // no unit
	}
	r.Observations[2].Label = "RATE"
	m := encode(t, Options{}, r, 1)
	want := []string{
		"266560^MDC_DIM_FAHR^MDC",
		"266016^MDC_DIM_MMHG^MDC",
		"/min^/min^UCUM",
		"268192^MDC_DIM_DEGC^MDC",
		"/min^/min^UCUM",
		"",
	}
	for i, w := range want {
		if got, _ := m.field("OBX", i+2, 6); got != w {
			t.Errorf("observation %d (MDC %d %q): OBX-6 = %q, want %q", i, r.Observations[i].MDC, r.Observations[i].Unit, got, w)
		}
	}
	// An unknown code without a RefID is named by the device's label, else
	// in 11073 partition::term notation.
	if got, _ := m.field("OBX", 4, 3); got != "999999^RATE^MDC" {
		t.Errorf("unknown code with a label: OBX-3 = %q", got)
	}
	if got, _ := m.field("OBX", 5, 3); got != "999998^15::16958^MDC" {
		t.Errorf("unknown code without a label: OBX-3 = %q", got)
	}
}

// The status flags and the MeasurementStatus mapping must cover every
// driver flag: a flag added to drivers.Status without a mapping here fails.
func TestEveryStatusFlagHandled(t *testing.T) {
	handled := drivers.Unavailable | drivers.Invalid | drivers.Questionable | drivers.SensorOff |
		drivers.Demo | drivers.Calibrating | drivers.OutOfRange | drivers.AlarmActive
	all := drivers.Status(0)
	for bit := drivers.Status(1); bit != 0 && !strings.Contains(bit.String(), "unknown"); bit <<= 1 {
		all |= bit
	}
	if all != handled {
		t.Errorf("drivers.Status has flags %v; the encoder maps %v", all, handled)
	}
	r := recordtest.PulseOximetry()
	r.Observations[0].Status = drivers.OutOfRange
	m := encode(t, Options{}, r, 1)
	if got, _ := m.field("NTE", 1, 3); got != "outside the device's measurement range" {
		t.Errorf("out-of-range note = %q", got)
	}
}
