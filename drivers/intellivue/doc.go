// Package intellivue speaks the host side of the Philips IntelliVue "Data
// Export" protocol over the monitor's MIB/RS232 port, and reads numerics.
//
// # Source
//
// Philips "Data Export Interface Programming Guide", IntelliVue X2, MP
// Series and MX Series, part number 4535 642 59271 (cited as [DEI] with the
// guide's section names): chapter 4 "Transport Protocols for the MIB/RS232
// Interface" (framing, header, FCS, transparency, frame abort), chapter 3
// "Connection Time-out Mechanism", and the message and data type
// definitions (association, MDS Create Event, poll requests and replies,
// linked results, AttributeList, NuObsValue, FLOATType, AbsoluteTime,
// RelativeTime). Nomenclature codes are those of ISO/IEEE 11073-10101.
//
// # Transport
//
// 115200 baud, 8 data bits, no parity, 1 stop bit, no flow control. A frame
// is 0xC0, an escaped header 0x11 0x01 LEN (LEN = user data bytes, big
// endian), the escaped user data, the escaped FCS (CRC-16/X.25, low byte
// first) and 0xC1. Inside a frame 0xC0, 0xC1 and 0x7D are sent as 0x7D and
// the byte XOR 0x20, in the header, user data and FCS alike; 0x7D 0xC1
// aborts a frame. [SplitFrames] is a bufio.SplitFunc that finds frames,
// [DecodeFrame] checks and unescapes one, and [AppendFrame] builds one.
//
// # Dialog
//
// The host sends an association request (AARQ) with its poll profile; the
// monitor answers with an association result (or a refuse), then sends the
// MDS Create Event, which names the monitor (model, system id) and its
// clock (absolute time and relative time); the host confirms it. The host
// then sends extended poll requests for numeric objects
// (NOM_MOC_VMO_METRIC_NU, with NOM_ATTR_TIME_PD_POLL); each poll also keeps
// the association alive. The monitor answers with poll replies, split into
// linked results (RORLS first, not-first-not-last, last, then an RORS) when
// they exceed its MTU; [Reassembler] joins them. The host ends with a
// release request. [Session] runs this dialog; [Decode] reads a capture of
// the monitor's side alone.
//
// # What a poll reply becomes
//
// One [drivers.Reading] per complete poll reply that carries numerics.
// Every NuObsValue (NOM_ATTR_NU_VAL_OBS) and every entry of a compound
// NuObsValue (NOM_ATTR_NU_CMPD_VAL_OBS, for example NIBP and ST) becomes a
// value, known or not: MDC code partition 2 << 16 | physiological id, a
// reference id for common ids ([PhysioRef]), the unit in UCUM ([UnitUCUM];
// unknown unit codes pass through as "mdc-dim:<code>"), the object's label
// string, and status flags from the measurement state and the FLOAT special
// values ([StatusOf]). A numeric object's own time stamp ([TimeStamp]:
// NOM_ATTR_TIME_STAMP_ABS, as NBP carries the time of its cuff measurement
// in every poll until the next, or NOM_ATTR_TIME_STAMP_REL on the
// monitor's relative clock, as ST carries it) becomes the MeasuredAt of
// each of its values; values without one have none. The device time is the poll reply's absolute time
// stamp when the monitor supplies one, else the MDS Create Event's absolute
// time advanced by the relative time since (8000 ticks per second). The
// device is identified by model and by serial number (the production
// specification's serial when present, else the system id in hex).
//
// # Not implemented
//
// The LAN (UDP) transport and its connect indication, the AutoSpeed
// protocol, waves (NOM_ATTR_SA_VAL_OBS and friends are kept as raw
// attributes and not interpreted), alarms, enumerations, priority lists,
// single (non-extended) polls in the session (their replies do decode),
// and GET/SET operations (their results are kept verbatim).
package intellivue
