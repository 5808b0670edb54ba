// Package nonin reads the serial output of Nonin pulse oximeters (OEM III
// module, Onyx II 9560, WristOx2 3150, Xpod and relatives) in data formats
// #2, #7 and #8.
//
// # Source
//
// Nonin "Onyx II Model 9560 Bluetooth Fingertip Oximeter — OEM
// Specification and Technical Information" (6470-000-01), which defines data
// formats #2, #7, #8 and #13 and the command that selects one; the OEM III
// module's status bit 6 (sensor disconnect) as the Pufferfish ventilator
// firmware reads it. The format is chosen on the device and kept in its
// memory; the host only listens. Each format is its own registry entry:
// "nonin" (#2), "nonin-df7" and "nonin-df8".
//
// # Formats
//
// #2 and #7 send 75 frames a second: packets of 25 frames, three a second.
// A #2 frame is 01 STATUS PLETH FLOAT CHK; a #7 frame STATUS PLETH-MSB
// PLETH-LSB FLOAT CHK. CHK is the sum of the four bytes before it, modulo
// 256. STATUS bit 7 is always 1 and bit 0 (SYNC) is 1 on the first frame of
// a packet only. The FLOAT byte of frame n carries one value: frames 1 and
// 2 the heart rate, HR = (MSB & 3) << 7 | LSB & 0x7F, frame 3 the SpO2 (low
// 7 bits), frame 4 the firmware revision, and the later frames the display,
// fast, beat-to-beat and extended averages. A reading is one packet: its
// SpO2 and heart rate (4-beat averages).
//
// #8 sends four bytes once a second: STATUS (bit 7 set; out of track 0x20,
// low perfusion 0x10, marginal perfusion 0x08, artefact 0x04, HR bits 8-7
// in bits 1-0), HR low 7 bits, SpO2-D, STATUS2 (sensor alarm 0x08, low
// battery 0x01); no checksum. A reading is one record: its display SpO2
// and heart rate.
//
// A missing heart rate is sent as 511 and a missing SpO2 as 127: the value
// is then absent (Unavailable), never a number.
//
// # Status
//
// Status bits become flags on both values of the reading: sensor
// disconnect (#2/#7 bit 6) sets SensorOff|Invalid; sensor alarm (SNSA)
// Invalid; out of track (OOT) Invalid; artefact (ARTF) Questionable; red or
// yellow perfusion (#2/#7), low or marginal perfusion (#8) Questionable. A
// green perfusion sets nothing. The gateway forwards an Invalid value
// without its number. The status bits are kept verbatim in
// Reading.DeviceStatus, for example "STATUS=A6" or "STATUS=84 STATUS2=08".
//
// # Link
//
// 9600 baud, 8 data bits, no parity, 1 stop bit, no handshake. The device
// has no clock in these formats: readings carry no device time. Frames
// with a bad checksum or status, and bytes between frames, are skipped and
// counted; a packet cut short by the next packet's SYNC frame is counted as
// bad and emits nothing.
package nonin
