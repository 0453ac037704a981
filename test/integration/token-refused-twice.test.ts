import nock from "nock";
import pino from "pino";
import { createMemoryCache } from "../../src/cache/memory";
import { ChannelError } from "../../src/channels/channel";
import { createDingtalkClient } from "../../src/channels/dingtalk/client";
import { createWecomClient } from "../../src/channels/wecom/client";
import { loadConfig } from "../../src/config";
import { dingtalkEnv } from "../helpers/dingtalk-gateway";
import { DT_API, DT_OAPI } from "../helpers/dingtalk-api";
import { testWecomConfig } from "../helpers/wecom";

/**
 * A token refused, renewed, and the new one refused at once too is the platform's passing trouble
 * (tokens expiring under it for a while), not a verdict on the message: the call fails as
 * retry_later, so the outbox tries again later instead of burying the message as dead.
 */
const log = pino({ level: "silent" });
const deps = () => ({ cache: createMemoryCache(), log, now: () => new Date(), tokenWaitMs: 100 });
const failureOf = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err as ChannelError);

describe("a fresh token refused again", () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it("WeCom: 42001 with the renewed token is retry_later", async () => {
    const config = testWecomConfig();
    const scope = nock(config.apiBase)
      .get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, access_token: "T1", expires_in: 7200 })
      .post("/cgi-bin/message/send").query({ access_token: "T1" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
      .get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, access_token: "T2", expires_in: 7200 })
      .post("/cgi-bin/message/send").query({ access_token: "T2" }).reply(200, { errcode: 42001, errmsg: "access_token expired" });
    const err = await failureOf(createWecomClient(config, deps()).post("/cgi-bin/message/send", { touser: "u1", msgtype: "text", text: { content: "你好" } }));
    expect(scope.isDone()).toBe(true);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err!.failure).toBe("retry_later");
  });

  it("DingTalk: 401 with the renewed token is retry_later, on the new API and the old", async () => {
    const config = loadConfig(dingtalkEnv({ DINGTALK_API_BASE: DT_API, DINGTALK_OAPI_BASE: DT_OAPI })).dingtalk!;
    const client = createDingtalkClient(config, deps());
    const api = nock(DT_API)
      .post("/v1.0/oauth2/accessToken").reply(200, { accessToken: "T1", expireIn: 7200 })
      .post("/v1.0/robot/oToMessages/batchSend").reply(401, { code: "InvalidAuthentication", message: "不合法的access_token" })
      .post("/v1.0/oauth2/accessToken").reply(200, { accessToken: "T2", expireIn: 7200 })
      .post("/v1.0/robot/oToMessages/batchSend").reply(401, { code: "InvalidAuthentication", message: "不合法的access_token" });
    const apiErr = await failureOf(client.api("POST", "/v1.0/robot/oToMessages/batchSend", { robotCode: "r", userIds: ["u1"], msgKey: "sampleText", msgParam: "{}" }));
    expect(api.isDone()).toBe(true);
    expect(apiErr!.failure).toBe("retry_later");

    const oapi = nock(DT_OAPI)
      .get("/gettoken").query(true).reply(200, { errcode: 0, access_token: "O1", expires_in: 7200 })
      .post("/topapi/v2/user/get").query({ access_token: "O1" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
      .get("/gettoken").query(true).reply(200, { errcode: 0, access_token: "O2", expires_in: 7200 })
      .post("/topapi/v2/user/get").query({ access_token: "O2" }).reply(200, { errcode: 42001, errmsg: "access_token expired" });
    const oapiErr = await failureOf(client.oapi("/topapi/v2/user/get", { userid: "u1" }));
    expect(oapi.isDone()).toBe(true);
    expect(oapiErr!.failure).toBe("retry_later");
  });
});
