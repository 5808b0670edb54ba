package dri

import (
	"errors"
	"fmt"

	"github.com/bedgate/bedgate/drivers"
)

// ErrMainType reports a record of a main type this driver does not read
// (waveforms, alarms, network): the host never asks for them.
var ErrMainType = errors.New("record main type not read")

// Decoder turns records into readings. It keeps what spans records: the
// latest NIBP measurement time from an auxiliary subrecord, and the NIBP
// measurement last emitted. The zero value is ready; it is not safe for
// concurrent use.
type Decoder struct {
	aux  Aux
	nibp struct {
		seen bool
		time uint32
		vals [4]int16
	}
}

// Record returns the readings in r, receive time unset: per displayed or
// trended values subrecord, one reading of every existing group but NIBP
// (at the subrecord's time), and, from displayed values only, one reading
// of a new NIBP measurement. An error says what in r could not be read;
// the readings of the rest are returned with it.
func (d *Decoder) Record(r Record) ([]drivers.Reading, error) {
	if r.MainType != MainPhdb {
		return nil, fmt.Errorf("dri: %w: %d", ErrMainType, r.MainType)
	}
	var out []drivers.Reading
	var errs []error
	for _, sr := range r.Subrecords {
		switch sr.Type {
		case PhAuxInfo:
			aux, err := ParseAux(sr.Data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			d.aux = aux
		case PhDispl, Ph10sTrend, Ph60sTrend:
			p, err := ParsePhdb(sr.Data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, d.phdb(sr.Type, r.Level, p)...)
		default:
			out = append(out, drivers.Reading{
				Device:       drivers.DeviceID{Driver: DriverName},
				DeviceTime:   unixTime(r.Time),
				Values:       rawValues(fmt.Sprintf("subrecord%d", sr.Type), sr.Data),
				DeviceStatus: fmt.Sprintf("%s level=%d", phdbTypeName(sr.Type), r.Level),
			})
		}
	}
	return out, errors.Join(errs...)
}

func (d *Decoder) phdb(typ, level uint8, p Phdb) []drivers.Reading {
	main := drivers.Reading{Device: drivers.DeviceID{Driver: DriverName}, DeviceTime: unixTime(p.Time)}
	if p.Class != ClassBasic {
		main.Values = rawValues(p.Class.String(), p.Data[:])
		main.DeviceStatus = fmt.Sprintf("%s class=%s level=%d", phdbTypeName(typ), p.Class, level)
		return []drivers.Reading{main}
	}
	groups := DecodeBasic(&p.Data)
	ecgStatus := groups[0].Status
	var nibp *drivers.Reading
	for i, l := range basicLayout {
		g := groups[i]
		exists := g.Status
		if l.kind == kindECGExtra {
			exists = ecgStatus
		}
		if exists&StatusExists == 0 {
			continue
		}
		if l.kind == kindNIBP {
			// NIBP trends repeat the displayed values [8005313 §3.5.3]:
			// a measurement is read once, from the displayed values.
			if typ == PhDispl {
				nibp = d.nibpReading(level, p.Time, l, g)
			}
			continue
		}
		main.Values = append(main.Values, groupValues(l, g, ecgStatus)...)
	}
	main.DeviceStatus = fmt.Sprintf("%s level=%d %s", phdbTypeName(typ), level, statusWords(groups))
	var out []drivers.Reading
	if len(main.Values) > 0 {
		out = append(out, main)
	}
	if nibp != nil {
		out = append(out, *nibp)
	}
	return out
}

// nibpReading returns a reading of the NIBP group when it shows a
// measurement not emitted before, or nil. A measurement is new when its
// values differ from the last one emitted, when the auxiliary time of the
// latest measurement changed, or after a record in which the last one was
// over 60 s old or there was none. The reading is at the subrecord's
// time; each value's MeasuredAt is the auxiliary NIBP time when there is
// one for it, else the subrecord's time (the label then says the
// measurement ended at most 60 s before). While measuring, or
// with no number, nothing is emitted.
func (d *Decoder) nibpReading(level uint8, recTime uint32, l groupLayout, g Group) *drivers.Reading {
	hasNumber := false
	for _, v := range g.Values {
		hasNumber = hasNumber || v > DataInvalidLimit
	}
	if g.Label&nibpOlder60s != 0 || !hasNumber {
		d.nibp.seen = false
		return nil
	}
	if g.Label&nibpMeasuring != 0 {
		return nil
	}
	vals := [4]int16(g.Values)
	t := d.aux.NIBPTime
	timeChanged := t != 0 && t != d.nibp.time
	if d.nibp.seen && vals == d.nibp.vals && !timeChanged {
		return nil
	}
	at, source := recTime, "record"
	if t != 0 && (timeChanged || !d.nibp.seen) {
		at, source = t, "aux"
	}
	d.nibp.seen, d.nibp.time, d.nibp.vals = true, t, vals
	values := groupValues(l, g, 0)
	for i := range values {
		values[i].MeasuredAt = unixTime(at)
	}
	return &drivers.Reading{
		Device:       drivers.DeviceID{Driver: DriverName},
		DeviceTime:   unixTime(recTime),
		Values:       values,
		DeviceStatus: fmt.Sprintf("DRI_PH_DISPL level=%d nibp=%08X/%04X time=%s", level, g.Status, g.Label, source),
	}
}
