import type * as Sdk from "dingtalk-stream" with { "resolution-mode": "import" };

/**
 * The SDK's client class, loaded when a DingTalk stream is started rather than at start-up: the SDK and
 * its axios and ws hold several MB resident that an instance without DingTalk never needs.
 * dingtalk-stream ships CommonJS (dist/index.cjs, its "require" export) but types that TypeScript reads
 * as ESM under "type": "module"; the types are taken as ESM and the code is required as CommonJS.
 */
export function loadDWClient(): typeof Sdk.DWClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("dingtalk-stream") as typeof Sdk).DWClient;
}
export type DWClient = Sdk.DWClient;
export type DWClientDownStream = Sdk.DWClientDownStream;

const ACK_HEAD = '{"code":200,"headers":{"contentType":"application/json","messageId":';
const ACK_TAIL = `},"message":"OK","data":${JSON.stringify(JSON.stringify({ response: {} }))}}`;

/**
 * The text `socketCallBackResponse(messageId, {})` sends — the protocol's "callback handled, nothing to
 * answer" (dingtalk.md 1) — built from two constants around the escaped id instead of two objects and
 * two JSON.stringify calls per frame. Byte for byte the SDK's own (test/unit/dingtalk-stream-ack.test.ts).
 */
export function emptyCallbackAck(messageId: string): string {
  return ACK_HEAD + JSON.stringify(messageId) + ACK_TAIL;
}
