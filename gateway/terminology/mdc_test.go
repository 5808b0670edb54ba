package terminology

import (
	"slices"
	"testing"

	"github.com/bedgate/bedgate/drivers/mdc"
)

// TestAgreesWithMDCTable checks that the encoders' terminology says what
// the mdc table says: every vital's code is here, with the vital's unit and
// LOINC code, in the blood-pressure role and panel the table gives.
func TestAgreesWithMDCTable(t *testing.T) {
	roles := map[mdc.BPRole]Role{mdc.NoBPRole: NoRole, mdc.Systolic: Systolic, mdc.Diastolic: Diastolic, mdc.Mean: Mean}
	for _, vital := range mdc.Vitals() {
		for _, code := range vital.Codes {
			v, ok := Lookup(code)
			if !ok {
				t.Errorf("%s code %d is not in the terminology", vital.Name, code)
				continue
			}
			if _, ok := v.Unit(vital.Unit); !ok && !slices.ContainsFunc(vital.Same, func(u string) bool { _, ok := v.Unit(u); return ok }) {
				t.Errorf("%s %s: canonical unit %s not among %v", vital.Name, v.Ref, vital.Unit, v.Units)
			}
			if vital.LOINC != "" && !slices.ContainsFunc(v.LOINC, func(c Coding) bool { return c.Code == vital.LOINC }) {
				t.Errorf("%s %s: LOINC %s not among %v", vital.Name, v.Ref, vital.LOINC, v.LOINC)
			}
			role, panel := mdc.RoleOf(code)
			if v.Role != roles[role] {
				t.Errorf("%s: role %v, the mdc table says %v", v.Ref, v.Role, roles[role])
			}
			if role != mdc.NoBPRole {
				p, ok := PanelOf(code)
				want := []uint32{panel.Systolic, panel.Diastolic, panel.Mean}
				if !ok || p.MDC != panel.Code || !slices.Equal(p.Components, want) {
					t.Errorf("%s: panel %d %v, the mdc table says %d %v", v.Ref, p.MDC, p.Components, panel.Code, want)
				}
			}
		}
	}
}
