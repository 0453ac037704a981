import crypto from "node:crypto";
import nock from "nock";

export const DT_API = "https://dt-api.test";
export const DT_OAPI = "https://dt-oapi.test";

export interface DeliveredCard {
  cardTemplateId: string;
  outTrackId: string;
  callbackType: string;
  cardData: { cardParamMap: Record<string, string> };
  openSpaceId: string;
  imRobotOpenDeliverModel: { spaceType: string; robotCode: string };
}
export interface CardUpdate {
  outTrackId: string;
  cardData: { cardParamMap: Record<string, string> };
  cardUpdateOptions: { updateCardDataByKey: boolean };
}
export interface RobotSend {
  robotCode: string;
  userIds: string[];
  msgKey: string;
  msgParam: Record<string, string>;
}
export interface WebhookPost {
  query: Record<string, string>;
  body: { msgtype: string; markdown?: { title: string; text: string } };
}

/**
 * DingTalk's OpenAPI faked with nock at its documented shapes (dingtalk.md 3-5, 7): every call is
 * recorded, and the token header / query is checked against the token the fake issued.
 */
export class FakeDingtalkApi {
  readonly cards: DeliveredCard[] = [];
  readonly updates: CardUpdate[] = [];
  readonly sends: RobotSend[] = [];
  readonly webhooks: WebhookPost[] = [];
  readonly violations: string[] = [];
  tokenFetches = 0;
  readonly users = new Map<string, Record<string, unknown>>();

  constructor(readonly accessToken = "DT-TOKEN-1") {}

  env(): Record<string, string> {
    return { DINGTALK_API_BASE: DT_API, DINGTALK_OAPI_BASE: DT_OAPI };
  }

  webhookUrl(token: string) {
    return `${DT_OAPI}/robot/send?access_token=${token}`;
  }

  install(): this {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const api = nock(DT_API).persist();
    api.post("/v1.0/oauth2/accessToken").reply(200, () => {
      this.tokenFetches += 1;
      return { accessToken: this.accessToken, expireIn: 7200 };
    });
    const auth = (headers: Record<string, string | string[]>) => {
      if (headers["x-acs-dingtalk-access-token"] !== this.accessToken) this.violations.push("call without the issued token");
    };
    api.post("/v1.0/robot/oToMessages/batchSend").reply(200, function (this: nock.ReplyFnContext, _u, body) {
      auth(this.req.headers);
      const b = body as Omit<RobotSend, "msgParam"> & { msgParam: string };
      self.sends.push({ ...b, msgParam: JSON.parse(b.msgParam) as Record<string, string> });
      return { processQueryKey: `pqk-${self.sends.length}`, invalidStaffIdList: [], flowControlledStaffIdList: [] };
    });
    api.post("/v1.0/card/instances/createAndDeliver").reply(200, function (this: nock.ReplyFnContext, _u, body) {
      auth(this.req.headers);
      const b = body as DeliveredCard;
      self.cards.push(b);
      return { success: true, result: { outTrackId: b.outTrackId, deliverResults: [{ spaceType: "IM_ROBOT", spaceId: b.openSpaceId, success: true, carrierId: "c1" }] } };
    });
    api.put("/v1.0/card/instances").reply(200, function (this: nock.ReplyFnContext, _u, body) {
      auth(this.req.headers);
      const b = body as CardUpdate;
      if (!self.cards.some((c) => c.outTrackId === b.outTrackId)) self.violations.push(`update of unknown card ${b.outTrackId}`);
      self.updates.push(b);
      return { success: true, result: true };
    });
    const oapi = nock(DT_OAPI).persist();
    oapi.get("/gettoken").query(true).reply(200, { errcode: 0, access_token: `${this.accessToken}-OAPI`, expires_in: 7200 });
    oapi.post("/topapi/v2/user/get").query(true).reply(200, (_u, body) => {
      const u = this.users.get((body as { userid: string }).userid);
      return u ? { errcode: 0, errmsg: "ok", result: u } : { errcode: 60121, errmsg: "找不到该用户" };
    });
    oapi.post("/topapi/v2/department/get").query(true).reply(200, { errcode: 0, result: { name: "销售部" } });
    oapi.post("/robot/send").query(true).reply(200, (uri, body) => {
      const query = Object.fromEntries(new URL(uri, DT_OAPI).searchParams);
      this.webhooks.push({ query, body: body as WebhookPost["body"] });
      return { errcode: 0, errmsg: "ok" };
    });
    return this;
  }

  cardsTo(userId: string) {
    return this.cards.filter((c) => c.openSpaceId === `dtv1.card//IM_ROBOT.${userId}`);
  }

  textsTo(userId: string) {
    return this.sends.filter((s) => s.userIds.includes(userId) && s.msgKey === "sampleText").map((s) => s.msgParam.content);
  }

  updatesOf(outTrackId: string) {
    return this.updates.filter((u) => u.outTrackId === outTrackId);
  }
}

/** The custom robot signature DingTalk checks (dingtalk.md 4). */
export function expectedSign(secret: string, timestamp: string): string {
  return crypto.createHmac("sha256", secret).update(`${timestamp}\n${secret}`).digest("base64");
}
