// Package nonin simulates Nonin pulse oximeters in serial data formats #2,
// #7 and #8, speaking the bytes drivers/nonin reads (sharing its codec).
// The device only sends; it never reads.
package nonin
