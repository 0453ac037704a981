import { emptyCallbackAck, loadDWClient } from "../../src/channels/dingtalk/sdk";

const DWClient = loadDWClient();

/** stream.ts acknowledges a frame with emptyCallbackAck(); it must be exactly what the SDK would send. */
describe("emptyCallbackAck", () => {
  const sdkAck = (messageId: string) => {
    const client = new DWClient({ clientId: "id", clientSecret: "secret" });
    const sent: string[] = [];
    Reflect.set(client, "socket", { send: (text: string) => sent.push(text) });
    client.socketCallBackResponse(messageId, {});
    return sent;
  };

  it("is byte for byte what socketCallBackResponse(messageId, {}) sends", () => {
    for (const id of ["svc-1", "a5b0e2f4-7c1d-4e0a-9b1f-2f6d1c0e8a11", 'odd "quoted" \\ id\n', "中文-id", ""]) {
      expect([emptyCallbackAck(id)]).toEqual(id ? sdkAck(id) : [JSON.stringify({ code: 200, headers: { contentType: "application/json", messageId: "" }, message: "OK", data: '{"response":{}}' })]);
    }
  });

  it("parses as the protocol's callback answer", () => {
    expect(JSON.parse(emptyCallbackAck("m1"))).toEqual({ code: 200, headers: { contentType: "application/json", messageId: "m1" }, message: "OK", data: JSON.stringify({ response: {} }) });
  });
});
