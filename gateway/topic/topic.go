package topic

import (
	"errors"
	"fmt"
	"strings"
)

// Root is the first two levels of every topic.
const Root = "bedgate/v1"

// The leaves of a bed's topics.
const (
	Obs       = "obs"       // observations, not retained
	Rejected  = "rejected"  // quarantined values, not retained
	Device    = "device"    // device status, retained
	Admission = "admission" // the EPR's admissions, retained
	Nurse     = "nurse"     // nurse entries for NEWS2, retained
)

// ErrTopic reports a topic that is not a bed topic of the expected leaf.
var ErrTopic = errors.New("topic: not a bed topic of this kind")

// Bed is the topic of one of a bed's leaves.
func Bed(site, ward, bed, leaf string) string {
	return Root + "/" + site + "/" + ward + "/" + bed + "/" + leaf
}

// BedFilter is the subscription to one leaf of every bed of a ward.
func BedFilter(site, ward, leaf string) string { return Bed(site, ward, "+", leaf) }

// Site is the subscription to everything of a site.
func Site(site string) string { return Root + "/" + site + "/#" }

// Status is a gateway's retained status topic.
func Status(site, gateway string) string {
	return Root + "/" + site + "/gateway/" + gateway + "/status"
}

// GatewaySync is a topic of the gateway's own that nobody publishes on: the
// admission feed subscribes to it only for its SUBACK, which the broker
// sends after the retained messages of the subscriptions before it.
func GatewaySync(site, gateway string) string {
	return Root + "/" + site + "/gateway/" + gateway + "/sync"
}

// ParseBed splits a bed topic of the given leaf into its site, ward and bed,
// or returns an error wrapping ErrTopic.
func ParseBed(topic, leaf string) (site, ward, bed string, err error) {
	rest, ok := strings.CutPrefix(topic, Root+"/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || parts[3] != leaf {
		return "", "", "", fmt.Errorf("%w: %q (want %s/<site>/<ward>/<bed>/%s)", ErrTopic, topic, Root, leaf)
	}
	for _, p := range parts[:3] {
		if p == "" || strings.ContainsAny(p, "+#") {
			return "", "", "", fmt.Errorf("%w: %q", ErrTopic, topic)
		}
	}
	return parts[0], parts[1], parts[2], nil
}
