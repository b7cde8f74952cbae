// The Engine.IO / Socket.IO codecs: packets to text and back, binary attachments, payloads.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EIO,
  PacketDecoder,
  ProtocolError,
  RECORD_SEPARATOR,
  SIO,
  decodeEnginePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  fromBase64,
  toBase64,
} from "../hub-client.js";

const bytes = (...values) => Uint8Array.from(values);
const view = (buffer) => Array.from(new Uint8Array(buffer));

test("CONNECT packets: default namespace, other namespace, auth", () => {
  assert.equal(encodePacket({ type: SIO.CONNECT }).text, "0");
  assert.equal(encodePacket({ type: SIO.CONNECT, nsp: "/dash" }).text, "0/dash,");
  assert.equal(encodePacket({ type: SIO.CONNECT, data: { token: "t" } }).text, '0{"token":"t"}');
  assert.equal(
    encodePacket({ type: SIO.CONNECT, nsp: "/dash", data: { pid: "p", offset: "o" } }).text,
    '0/dash,{"pid":"p","offset":"o"}',
  );
});

test("EVENT and ACK packets with namespaces and ack ids", () => {
  assert.equal(encodePacket({ type: SIO.EVENT, data: ["join", "r"] }).text, '2["join","r"]');
  assert.equal(encodePacket({ type: SIO.EVENT, nsp: "/a", id: 12, data: ["x", { n: 1 }] }).text, '2/a,12["x",{"n":1}]');
  assert.equal(encodePacket({ type: SIO.ACK, id: 3, data: [] }).text, "33[]");
  assert.equal(encodePacket({ type: SIO.DISCONNECT, nsp: "/a" }).text, "1/a,");
  assert.deepEqual(encodePacket({ type: SIO.EVENT, data: ["e", "é ☃"] }).attachments, []);
});

test("binary values become attachments, in order, and come back as ArrayBuffers", () => {
  const { text, attachments } = encodePacket({
    type: SIO.EVENT,
    nsp: "/b",
    id: 7,
    data: ["up", bytes(1, 2), { nested: [bytes(3).buffer] }, "text"],
  });
  assert.equal(text, '52-/b,7["up",{"_placeholder":true,"num":0},{"nested":[{"_placeholder":true,"num":1}]},"text"]');
  assert.equal(attachments.length, 2);
  const decoder = new PacketDecoder();
  assert.equal(decoder.add(text), null);
  assert.equal(decoder.add(attachments[0]), null);
  const packet = decoder.add(attachments[1]);
  assert.equal(packet.type, SIO.EVENT);
  assert.equal(packet.nsp, "/b");
  assert.equal(packet.id, 7);
  assert.equal(packet.data[0], "up");
  assert.ok(packet.data[1] instanceof ArrayBuffer);
  assert.deepEqual(view(packet.data[1]), [1, 2]);
  assert.deepEqual(view(packet.data[2].nested[0]), [3]);
  assert.equal(packet.data[3], "text");
  // A binary ACK.
  const ack = encodePacket({ type: SIO.ACK, id: 4, data: [bytes(9)] });
  assert.equal(ack.text, '61-4[{"_placeholder":true,"num":0}]');
});

test("the decoder reads what the hub sends", () => {
  const decoder = new PacketDecoder();
  assert.deepEqual(decoder.add('0{"sid":"s","pid":"p"}'), { type: SIO.CONNECT, nsp: "/", id: null, data: { sid: "s", pid: "p" } });
  assert.deepEqual(decoder.add('4/dash,{"message":"no","data":{"reason":"r"}}'), {
    type: SIO.CONNECT_ERROR,
    nsp: "/dash",
    id: null,
    data: { message: "no", data: { reason: "r" } },
  });
  assert.deepEqual(decoder.add('2/dash,15["job",{"j":1},{"id":"b-1"}]').data, ["job", { j: 1 }, { id: "b-1" }]);
  assert.equal(decoder.add('2/dash,15["job"]').id, 15);
  assert.deepEqual(decoder.add("3/x,2[true]"), { type: SIO.ACK, nsp: "/x", id: 2, data: [true] });
  assert.deepEqual(decoder.add("1/x,"), { type: SIO.DISCONNECT, nsp: "/x", id: null, data: undefined });
  // A binary event with no attachment at all is a plain event.
  assert.equal(decoder.add('50-["e"]').type, SIO.EVENT);
});

test("the decoder refuses malformed packets", () => {
  const bad = ["", "9", '2{"not":"a list"}', "2[]", "2[1]", "3[]", "2[oops", "5x-[]", "0", '0{"no":"sid"}'];
  for (const text of bad) {
    assert.throws(() => new PacketDecoder().add(text), ProtocolError, text);
  }
  const decoder = new PacketDecoder();
  assert.throws(() => decoder.add(new ArrayBuffer(1)), ProtocolError);
  decoder.add('51-["e",{"_placeholder":true,"num":0}]');
  assert.throws(() => decoder.add('2["e"]'), ProtocolError);
  const outOfRange = new PacketDecoder();
  outOfRange.add('51-["e",{"_placeholder":true,"num":3}]');
  assert.throws(() => outOfRange.add(new ArrayBuffer(1)), ProtocolError);
});

test("Engine.IO packets of a WebSocket message", () => {
  assert.deepEqual(decodeEnginePacket("2"), { type: EIO.PING, data: "" });
  assert.deepEqual(decodeEnginePacket("3probe"), { type: EIO.PONG, data: "probe" });
  assert.deepEqual(decodeEnginePacket('42["a"]'), { type: EIO.MESSAGE, data: '2["a"]' });
  const binary = decodeEnginePacket(bytes(1, 2, 3));
  assert.equal(binary.type, EIO.MESSAGE);
  assert.deepEqual(view(binary.data), [1, 2, 3]);
  assert.throws(() => decodeEnginePacket(""), ProtocolError);
  assert.throws(() => decodeEnginePacket("x"), ProtocolError);
});

test("long-polling payloads: record separators and base64 binary", () => {
  const body = encodePayload(['42["a"]', bytes(0, 255, 7), "3"]);
  assert.equal(body, `42["a"]${RECORD_SEPARATOR}bAP8H${RECORD_SEPARATOR}3`);
  const packets = decodePayload(body);
  assert.equal(packets.length, 3);
  assert.deepEqual(packets[0], { type: EIO.MESSAGE, data: '2["a"]' });
  assert.deepEqual(view(packets[1].data), [0, 255, 7]);
  assert.deepEqual(packets[2], { type: EIO.PONG, data: "" });
  assert.deepEqual(decodePayload(""), []);
  assert.throws(() => decodePayload("b%%%"), ProtocolError);
});

test("base64 round trip of every byte value and of large buffers", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(view(fromBase64(toBase64(all))), Array.from(all));
  const big = Uint8Array.from({ length: 100000 }, (_, i) => (i * 7) % 251);
  assert.equal(toBase64(big), Buffer.from(big).toString("base64"));
  assert.deepEqual(new Uint8Array(fromBase64(toBase64(big))), big);
  assert.equal(toBase64(new Uint8Array(0)), "");
});
