package mdc_test

import (
	"testing"

	"github.com/bedgate/bedgate/drivers/mdc"
)

func TestTableIsConsistent(t *testing.T) {
	seen := map[uint32]string{}
	for _, v := range mdc.Vitals() {
		r := v.Range
		if !(r.Min < r.Max && r.Min <= r.SoftMin && r.SoftMin < r.SoftMax && r.SoftMax <= r.Max) {
			t.Errorf("%s: range %+v is not min <= soft_min < soft_max <= max", v.Name, r)
		}
		if v.Unit == "" || len(v.Codes) == 0 {
			t.Errorf("%s: unit %q, %d codes", v.Name, v.Unit, len(v.Codes))
		}
		for i, c := range v.Codes {
			if other, dup := seen[c]; dup {
				t.Errorf("code %d in both %s and %s", c, other, v.Name)
			}
			seen[c] = v.Name
			got, rank, ok := mdc.VitalOf(c)
			if !ok || got.Name != v.Name || rank != i {
				t.Errorf("VitalOf(%d) = %s, %d, %v; want %s, %d", c, got.Name, rank, ok, v.Name, i)
			}
		}
	}
	for _, p := range mdc.Panels() {
		for _, part := range []struct {
			code  uint32
			role  mdc.BPRole
			vital string
		}{{p.Systolic, mdc.Systolic, mdc.VitalSystolic}, {p.Diastolic, mdc.Diastolic, mdc.VitalDiastolic}, {p.Mean, mdc.Mean, mdc.VitalMean}} {
			if role, panel := mdc.RoleOf(part.code); role != part.role || panel != p {
				t.Errorf("RoleOf(%d) = %v, %+v; want %v of %+v", part.code, role, panel, part.role, p)
			}
			if seen[part.code] != part.vital {
				t.Errorf("panel %d part %d measures %q, want %s", p.Code, part.code, seen[part.code], part.vital)
			}
		}
	}
	if _, _, ok := mdc.VitalOf(mdc.ConcHbCOGen); ok {
		t.Error("SpCO is not a vital with a default range")
	}
	if role, _ := mdc.RoleOf(mdc.SpO2); role != mdc.NoBPRole {
		t.Error("SpO2 plays a blood-pressure role")
	}
}

// TestVitalOfCopiesOnlyItsVital: VitalOf is called for every value read,
// so it copies the one vital it finds (its two slices), not the table; a
// caller changing what it got changes nothing for the next.
func TestVitalOfCopiesOnlyItsVital(t *testing.T) {
	v, _, ok := mdc.VitalOf(mdc.PerfusionIndex)
	if !ok || len(v.Same) == 0 {
		t.Fatalf("VitalOf(PerfusionIndex) = %+v, %v; want the perfusion index with its same-scale units", v, ok)
	}
	v.Codes[0], v.Same[0] = 0, "changed"
	again, rank, _ := mdc.VitalOf(mdc.PerfusionIndex)
	if again.Codes[0] == 0 || again.Same[0] == "changed" || rank != 1 {
		t.Errorf("after changing a result, VitalOf gives %+v (rank %d): the table was shared", again, rank)
	}
	if n := testing.AllocsPerRun(100, func() { mdc.VitalOf(mdc.SpO2) }); n > 2 {
		t.Errorf("VitalOf allocates %v times a call, want at most 2 (its vital's slices)", n)
	}
}
