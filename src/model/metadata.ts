/** The ONNX metadata reader: a model's `metadata_props` without decoding its graph. */
import protobuf from 'protobufjs';

/** Read metadata_props (ModelProto field 14) from ONNX bytes without decoding the graph. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 14 && (tag & 7) === 2) {
      const sub = protobuf.Reader.create(r.bytes());
      let key = '';
      let value = '';
      while (sub.pos < sub.len) {
        const t2 = sub.uint32();
        if (t2 >>> 3 === 1) key = sub.string();
        else if (t2 >>> 3 === 2) value = sub.string();
        else sub.skipType(t2 & 7);
      }
      out[key] = value;
    } else r.skipType(tag & 7);
  }
  return out;
}
