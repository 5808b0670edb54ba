// Package dri simulates a GE Datex-Ohmeda S/5 or CARESCAPE monitor on its
// Computer Interface (DRI), speaking the bytes drivers/dri reads (sharing
// its codec). The monitor sends nothing until asked: a request for the
// displayed values starts a record every requested interval (or every
// Options.Period when the caller set one), a request for the auxiliary
// information adds the NIBP measurement time before each, and an interval
// of zero stops either. Trend requests are accepted and not answered.
package dri
