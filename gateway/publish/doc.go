// Package publish drains the durable outbox to an MQTT broker with QoS 1.
//
// The outbox is the single source of truth. An entry leaves it only when
// the broker's PUBACK for that very publish arrives on the connection it was
// sent on. A paho token that completes after the connection it was sent on
// was lost is not trusted (paho completes such tokens without error after
// an automatic reconnect, whether or not the message arrived): when a
// connection is lost, every entry in flight goes back to the head of the
// outbox and is sent again, in order, after the reconnect. Receivers
// de-duplicate on the observation identifiers, so at-least-once delivery
// never double-files.
//
// # Order
//
// When a connection comes up the publisher notes the outbox's next sequence
// number. Entries below it are the backlog, sent oldest first at most
// BacklogRate a second; entries from it on are live, sent as they come.
// Each lane is read by a goroutine of its own in sequence order, a batch
// ahead, and one goroutine publishes both lanes' entries, each lane's in
// that order and the live lane's first, on one connection; so within a lane
// no message leaves after one with a higher sequence number, of its device
// or any other. Only across the two lanes may a fresh reading overtake the
// backlog, by design.
// Sequence numbers, not append times, mark the boundary, so a clock step
// moves nothing from one lane to the other.
//
// # Retained status topics and stopping
//
// The publisher keeps the retained status topics: the gateway's own status
// (Options.Status(true) on connect and on RefreshStatus, Options.Status(false)
// as the MQTT last will and on a clean stop) and the latest status of each
// device (SetRetained), re-published after every reconnect. When Run's
// context ends it stops reading the outbox, waits for the PUBACKs in flight,
// makes sure the latest payload of every retained topic was acknowledged
// (publishing it again otherwise), publishes "offline", and only then
// disconnects, waiting at most ShutdownWait for acknowledgements in all. The caller sets the final
// device statuses before it ends the context.
//
// Options.Brokers lists the nodes of one broker cluster: every connection
// attempt tries them in order and takes the first that accepts, with the
// same client id and persistent session, so that a gateway fails over to
// another node when its node dies. Stats.Broker names the node in use.
//
// Run retries a failing connection for as long as it runs. Stats reports
// why the latest attempt failed (LastError, with a hint at the usual cause:
// an untrusted broker certificate, a client certificate the broker refused,
// wrong credentials, a plaintext client on a TLS port), and each distinct
// reason is logged once at warn until a connection succeeds. The password
// is never logged nor reported.
package publish
