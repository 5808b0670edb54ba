// Package filed is the ledger of what the gateway filed per bed: for each
// reading it forwarded (or quarantined for want of a patient) and each
// NEWS2 score, the record as it was encoded, so that a late admission event
// showing it went to the wrong subject can be corrected (the record struck
// out as entered in error and filed again for the right one; [Refiled]
// gives it new identifiers).
//
// The ledger is durable: [Ledger.Add] and [Ledger.Replace] return once the
// entry is synced (appends that arrive during a sync share the next one).
// [Ledger.Write] only writes, and [Ledger.Sync] makes what was written
// durable: the gateway writes each filing, and the outbox syncs the ledger
// before it writes the appends that follow, once for a group of them, so
// that a reading is in the ledger before it is in the outbox. It is
// bounded: entries are kept
// for Options.Window after they were filed (DefaultWindow, 24 hours) and at
// most Options.MaxEntries of them (DefaultMaxEntries); older ones are
// pruned, a new entry is never refused.
//
// On disk it is a directory of segment files, each holding at most a
// sixteenth of MaxEntries and of Window; pruning deletes whole segments,
// oldest first. A correction ([Ledger.Replace]) is a new frame that
// supersedes the reading's earlier one. A segment is a sequence of
// frames: length (4 bytes, big endian), CRC-32 (Castagnoli) of the data, and
// the data (JSON of an Entry). Replay stops at the first incomplete or
// damaged frame of a segment (a write cut short by a crash) and cuts it off.
//
// In memory the ledger keeps only an index, 32 bytes an entry (reading
// time, interned subject, position; by bed): the records are read back
// from disk when a correction needs them.
package filed
