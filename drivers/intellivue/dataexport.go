package intellivue

import "fmt"

// The SPpdu that begins every data export message: session id 0xE100 and
// presentation context id 2 [DEI "SPpdu"].
const (
	dataExportSession = 0xE100
	dataExportContext = 2
)

func decodeDataExport(b []byte) (Message, error) {
	c := newCursor(b, 0, "SPpdu")
	if s := c.u16(); c.err == nil && s != dataExportSession {
		c.fail("session id 0x%04X, want 0xE100", s)
	}
	c.u16() // presentation context id
	c.what = "ROapdus"
	ro := c.u16()
	body := c.sub(int(c.u16()), "ROapdus")
	c.done()
	if c.err != nil {
		return nil, c.err
	}
	var m Message
	switch ro {
	case roInvoke:
		m = decodeInvoke(body)
	case roResult, roLinkedResult:
		m = decodeResult(body, ro == roLinkedResult)
	case roError:
		body.what = "ROERapdu"
		e := &ErrorResult{InvokeID: body.u16(), ErrorValue: body.u16()}
		e.Argument = body.bytes(int(body.u16()))
		m = e
	default:
		return nil, &MessageError{Offset: 4, What: "ROapdus", Reason: fmt.Sprintf("unknown remote operation type %d", ro)}
	}
	body.done()
	if body.err != nil {
		return nil, body.err
	}
	return m, nil
}

func decodeInvoke(c *cursor) *Invoke {
	c.what = "ROIVapdu"
	m := &Invoke{InvokeID: c.u16(), Command: Command(c.u16())}
	arg := c.sub(int(c.u16()), "ROIVapdu argument")
	m.Argument = arg.b
	switch m.Command {
	case CmdEventReport, CmdConfirmedEventReport:
		arg.what = "EventReportArgument"
		e := &EventReport{Object: decodeManagedObject(arg), EventTime: RelativeTime(arg.u32()), EventType: arg.u16()}
		info := arg.sub(int(arg.u16()), "EventReportArgument info")
		e.Info = info.b
		if e.EventType == EventMDSCreate && info.err == nil {
			info.what = "MDSCreateInfo"
			e.MDSCreate = &MDSCreate{Object: decodeManagedObject(info), Attributes: decodeAttributeList(info)}
			info.done()
		}
		m.EventReport = e
		inherit(arg, info)
	case CmdConfirmedAction:
		arg.what = "ActionArgument"
		a := &ActionArgument{Object: decodeManagedObject(arg), Scope: arg.u32(), ActionType: arg.u16()}
		info := arg.sub(int(arg.u16()), "ActionArgument info")
		a.Info = info.b
		if (a.ActionType == ActionPoll || a.ActionType == ActionPollExt) && info.err == nil {
			info.what = "PollMdibDataReq"
			p := &PollRequest{Extended: a.ActionType == ActionPollExt, PollNumber: info.u16(),
				ObjectType: Type{info.u16(), info.u16()}, AttrGroup: info.u16()}
			if p.Extended {
				p.Attributes = decodeAttributeList(info)
			}
			info.done()
			a.Poll = p
		}
		m.Action = a
		inherit(arg, info)
	default:
		arg.bytes(arg.rest())
	}
	arg.done()
	inherit(c, arg)
	return m
}

func decodeResult(c *cursor, linked bool) *Result {
	m := &Result{}
	if linked {
		c.what = "RORLSapdu"
		m.Linked = &Linked{State: LinkedState(c.u8()), Count: c.u8()}
		if st := m.Linked.State; c.err == nil && (st < LinkedFirst || st > LinkedLast) {
			c.fail("linked result state %d", st)
		}
	} else {
		c.what = "RORSapdu"
	}
	m.InvokeID, m.Command = c.u16(), Command(c.u16())
	arg := c.sub(int(c.u16()), "result argument")
	m.Argument = arg.b
	switch m.Command {
	case CmdConfirmedEventReport:
		arg.what = "EventReportResult"
		e := &EventReportResult{Object: decodeManagedObject(arg), CurrentTime: RelativeTime(arg.u32()), EventType: arg.u16()}
		e.Info = arg.bytes(int(arg.u16()))
		m.EventReport = e
	case CmdConfirmedAction:
		arg.what = "ActionResult"
		a := &ActionResult{Object: decodeManagedObject(arg), ActionType: arg.u16()}
		info := arg.sub(int(arg.u16()), "ActionResult info")
		a.Info = info.b
		if (a.ActionType == ActionPoll || a.ActionType == ActionPollExt) && info.err == nil {
			a.Poll = decodePollReply(info, a.ActionType == ActionPollExt)
		}
		m.Action = a
		inherit(arg, info)
	default:
		arg.bytes(arg.rest())
	}
	arg.done()
	inherit(c, arg)
	return m
}

// inherit moves a sub-cursor's error to its parent.
func inherit(parent, child *cursor) {
	if parent.err == nil && child.err != nil {
		parent.err = child.err
	}
}

func decodePollReply(c *cursor, ext bool) *PollReply {
	c.what = "PollMdibDataReply"
	p := &PollReply{Extended: ext, PollNumber: c.u16()}
	if ext {
		c.what = "PollMdibDataReplyExt"
		p.SequenceNo = c.u16()
	}
	p.RelTime = RelativeTime(c.u32())
	copy(p.AbsTime[:], c.bytes(8))
	p.ObjectType = Type{c.u16(), c.u16()}
	p.AttrGroup = c.u16()
	// PollInfoList: count, length, SingleContextPoll...
	count := int(c.u16())
	list := c.sub(int(c.u16()), "PollInfoList")
	for range count {
		ctx := ContextPoll{ContextID: list.u16()}
		n := int(list.u16())
		obs := list.sub(int(list.u16()), "ObservationPoll list")
		for range n {
			o := Observation{Handle: obs.u16()}
			o.Attributes = decodeAttributeList(obs)
			if obs.err != nil {
				break
			}
			ctx.Observations = append(ctx.Observations, o)
		}
		obs.done()
		inherit(list, obs)
		if list.err != nil {
			break
		}
		p.Contexts = append(p.Contexts, ctx)
	}
	list.done()
	inherit(c, list)
	c.done()
	return p
}

// appendDataExport appends the SPpdu and an ROapdus of type ro whose body
// body appends; it fills in the length.
func appendDataExport(dst []byte, ro uint16, body func([]byte) []byte) []byte {
	dst = appendU16(appendU16(dst, dataExportSession), dataExportContext)
	dst = appendU16(dst, ro)
	at := len(dst)
	dst = body(appendU16(dst, 0))
	patchU16(dst, at, len(dst)-at-2)
	return dst
}

// appendOp appends invoke id, command and a length-prefixed argument.
func appendOp(dst []byte, invokeID uint16, cmd Command, arg func([]byte) []byte) []byte {
	dst = appendU16(appendU16(dst, invokeID), uint16(cmd))
	at := len(dst)
	dst = arg(appendU16(dst, 0))
	patchU16(dst, at, len(dst)-at-2)
	return dst
}

// appendLength appends a 16-bit length and what fn appends, filling in
// the length.
func appendLength(dst []byte, fn func([]byte) []byte) []byte {
	at := len(dst)
	dst = fn(appendU16(dst, 0))
	patchU16(dst, at, len(dst)-at-2)
	return dst
}

// AppendMDSCreateEvent appends the MDS Create Event a monitor sends after
// the association: a confirmed event report NOM_NOTI_MDS_CREAT on the MDS
// object carrying the MDS attributes [DEI "MDS Create Event"].
func AppendMDSCreateEvent(dst []byte, invokeID uint16, eventTime RelativeTime, mds MDSCreate) []byte {
	return appendDataExport(dst, roInvoke, func(b []byte) []byte {
		return appendOp(b, invokeID, CmdConfirmedEventReport, func(b []byte) []byte {
			b = appendManagedObject(b, mdsObject())
			b = appendU16(appendU32(b, uint32(eventTime)), EventMDSCreate)
			return appendLength(b, func(b []byte) []byte {
				return appendAttributeList(appendManagedObject(b, mds.Object), mds.Attributes)
			})
		})
	})
}

// AppendMDSCreateResult appends the host's answer to the MDS Create Event
// with invoke id invokeID sent at eventTime [DEI "MDS Create Event
// Result"].
func AppendMDSCreateResult(dst []byte, invokeID uint16, eventTime RelativeTime) []byte {
	return appendDataExport(dst, roResult, func(b []byte) []byte {
		return appendOp(b, invokeID, CmdConfirmedEventReport, func(b []byte) []byte {
			b = appendManagedObject(b, mdsObject())
			b = appendU16(appendU32(b, uint32(eventTime)), EventMDSCreate)
			return appendU16(b, 0)
		})
	})
}

// AppendPollRequest appends a poll request (a confirmed action on the MDS
// object): NOM_ACT_POLL_MDIB_DATA_EXT with p.Attributes when p.Extended,
// else NOM_ACT_POLL_MDIB_DATA [DEI "Poll Request"].
func AppendPollRequest(dst []byte, invokeID uint16, p PollRequest) []byte {
	action := uint16(ActionPoll)
	if p.Extended {
		action = ActionPollExt
	}
	return appendDataExport(dst, roInvoke, func(b []byte) []byte {
		return appendOp(b, invokeID, CmdConfirmedAction, func(b []byte) []byte {
			b = appendU16(appendU32(appendManagedObject(b, mdsObject()), 0), action)
			return appendLength(b, func(b []byte) []byte {
				b = appendU16(b, p.PollNumber)
				b = appendU16(appendU16(b, p.ObjectType.Partition), p.ObjectType.Code)
				b = appendU16(b, p.AttrGroup)
				if p.Extended {
					b = appendAttributeList(b, p.Attributes)
				}
				return b
			})
		})
	})
}

// NumericsPollRequest returns the extended poll request for all numeric
// objects' attributes, with NOM_ATTR_TIME_PD_POLL set to period.
func NumericsPollRequest(pollNumber uint16, period RelativeTime) PollRequest {
	return PollRequest{
		Extended:   true,
		PollNumber: pollNumber,
		ObjectType: Type{PartitionObject, ClassNumeric},
		Attributes: []AVA{{ID: AttrTimePdPoll, Value: appendU32(nil, uint32(period))}},
	}
}

// AppendPollResult appends a poll reply: an RORS when linked is nil, else
// one RORLS part with linked's state and count [DEI "Poll Reply",
// "Linked Results"]. This is what a monitor sends.
func AppendPollResult(dst []byte, invokeID uint16, linked *Linked, p PollReply) []byte {
	action := uint16(ActionPoll)
	if p.Extended {
		action = ActionPollExt
	}
	ro := uint16(roResult)
	if linked != nil {
		ro = roLinkedResult
	}
	return appendDataExport(dst, ro, func(b []byte) []byte {
		if linked != nil {
			b = append(b, byte(linked.State), linked.Count)
		}
		return appendOp(b, invokeID, CmdConfirmedAction, func(b []byte) []byte {
			b = appendU16(appendManagedObject(b, mdsObject()), action)
			return appendLength(b, func(b []byte) []byte { return appendPollReply(b, p) })
		})
	})
}

func appendPollReply(b []byte, p PollReply) []byte {
	b = appendU16(b, p.PollNumber)
	if p.Extended {
		b = appendU16(b, p.SequenceNo)
	}
	b = appendU32(b, uint32(p.RelTime))
	b = append(b, p.AbsTime[:]...)
	b = appendU16(appendU16(b, p.ObjectType.Partition), p.ObjectType.Code)
	b = appendU16(b, p.AttrGroup)
	b = appendU16(b, uint16(len(p.Contexts)))
	return appendLength(b, func(b []byte) []byte {
		for _, ctx := range p.Contexts {
			b = appendU16(appendU16(b, ctx.ContextID), uint16(len(ctx.Observations)))
			b = appendLength(b, func(b []byte) []byte {
				for _, o := range ctx.Observations {
					b = appendAttributeList(appendU16(b, o.Handle), o.Attributes)
				}
				return b
			})
		}
		return b
	})
}
