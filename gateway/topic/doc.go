// Package topic is bedgate's MQTT topic scheme, in one place:
//
//	bedgate/v1/<site>/<ward>/<bed>/<leaf>   a bed's topics (obs, rejected, device, admission, nurse)
//	bedgate/v1/<site>/gateway/<id>/status   a gateway's status
//
// No topic ever holds a patient identifier.
package topic
