// Package benchproto is version 1 of the WebSocket protocol between
// benchmark producers (browser tabs, `pyplay bench-native`), dashboard
// viewers and the server, specified in docs/protocol.md.
//
// Every message is one JSON envelope in a WebSocket text frame of its own
//
//	{"v":1,"type":"samples","seq":7,"payload":{...}}
//
// except that a client whose hello asked to coalesce may get several
// server messages in one frame, as a JSON array (SplitFrame).
//
// The package owns the wire format and nothing else: it decodes and
// strictly validates what clients send (Decode), tracks what a connection
// may send next (Session), builds what the server sends (Welcome, Ack,
// Fail, RunStartedMessage, …, then Encode), and converts payloads to and
// from the snippets types the store keeps. It does no I/O and knows nothing
// of the hub: the server decodes a frame, checks it against the Session,
// stores it, answers with an Ack or an error, and publishes the encoded
// fan-out message to Topic(snippet).
//
// Every rejection is a *ProtoError with a stable Code for programs and a
// Message for the developer reading the browser console.
package benchproto
