import nock from "nock";
import request from "supertest";
import type { WecomConfig } from "../../src/config";
import type { TestApp } from "./test-app";
import { cardEventXml, textXml, wecomEnv, wecomPost } from "./wecom";

/**
 * A WeCom tenant faked at its HTTP boundary (wecom.md 3.1, 4, 5.5, 7.3), for flows that run through
 * encrypted callbacks. Every call a test expects is declared with nock, so an unexpected call fails the
 * request and `isDone()` reports a missing one; every body WeCom receives is recorded for assertions.
 * response_codes are issued the way WeCom issues them (one per interactive send, one per click) and each
 * update is checked against them: the code must belong to that card and that person, and be unspent.
 */

/** The template_card JSON as WeCom receives it (wecom.md 5.1, 5.2); only what the tests read is typed. */
export interface TemplateCardJson {
  card_type: string;
  task_id: string;
  main_title?: { title?: string; desc?: string };
  source?: { desc?: string };
  /** type 0 (or none) calls back with its key; type 1 opens its url and has no key (wecom.md 5.1). */
  button_list?: Array<{ type?: number; text: string; style?: number; key?: string; url?: string }>;
  button_selection?: Question;
  select_list?: Question[];
  submit_button?: { text: string; key: string };
  card_action?: { type: number; url?: string };
  replace_text?: string;
  [field: string]: unknown;
}

/** A button_selection or one select_list entry (wecom.md 5.2). */
export interface Question {
  question_key: string;
  title?: string;
  option_list: Array<{ id: string; text: string }>;
}

export interface SentMessage {
  touser: string;
  msgtype: string;
  agentid: number;
  text?: { content: string };
  template_card?: TemplateCardJson;
  /** What the fake answered: the msgid, and the response_code for an interactive card. */
  answer: { msgid: string; response_code?: string };
}

export interface CardUpdate {
  userids: string[];
  agentid: number;
  response_code: string;
  template_card?: TemplateCardJson;
  button?: { replace_name: string };
  answer: { errcode: number };
}

export interface RobotMessage {
  key: string;
  msgtype: string;
  markdown?: { content: string };
  text?: { content: string };
}

/** How the fake answers one update_template_card; the default is `{ errcode: 0 }`. */
export type UpdateAnswer = (update: Omit<CardUpdate, "answer">) => { errcode: number; errmsg?: string };

interface IssuedCode {
  taskId: string;
  userId: string;
  from: "send" | "click";
  spent: boolean;
}

// wecom.md 4: message/send returns a response_code only for these card types.
const INTERACTIVE = new Set(["button_interaction", "vote_interaction", "multiple_interaction"]);

export class FakeWecom {
  readonly sent: SentMessage[] = [];
  readonly updates: CardUpdate[] = [];
  readonly robot: RobotMessage[] = [];
  /** Problems found while answering (a spent or foreign response_code): tests expect this to stay empty. */
  readonly violations: string[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private tokenFetched = false;
  private seq = 0;
  private clickTime = 1_700_000_000;

  constructor(
    readonly config: WecomConfig,
    readonly accessToken = "TOKEN-1",
  ) {}

  /** The env that wires this app into createTestApp. */
  env(): Record<string, string> {
    return wecomEnv(this.config);
  }

  /** A group-robot webhook URL on the fake's host (wecom.md 7.3). */
  robotUrl(key: string): string {
    return `${this.config.apiBase}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`;
  }

  /**
   * The calls one step of a test expects. Until the app has fetched its token, an expectation also takes
   * the one gettoken: the token is cached for its 7200 s, so later steps never fetch it again.
   */
  expect(calls: { send?: number; update?: number; robot?: { key: string; times: number } }, answerUpdate?: UpdateAnswer): nock.Scope {
    const scope = nock(this.config.apiBase);
    if (!this.tokenFetched) {
      scope
        .get("/cgi-bin/gettoken")
        .query({ corpid: this.config.corpId, corpsecret: this.config.secret })
        .reply(200, () => {
          this.tokenFetched = true;
          return { errcode: 0, errmsg: "ok", access_token: this.accessToken, expires_in: 7200 };
        });
    }
    if (calls.send) {
      scope
        .post("/cgi-bin/message/send")
        .query({ access_token: this.accessToken })
        .times(calls.send)
        .reply(200, (_uri, body) => this.answerSend(body as Omit<SentMessage, "answer">));
    }
    if (calls.update) {
      scope
        .post("/cgi-bin/message/update_template_card")
        .query({ access_token: this.accessToken })
        .times(calls.update)
        .reply(200, (_uri, body) => this.answerUpdate(body as Omit<CardUpdate, "answer">, answerUpdate));
    }
    if (calls.robot) {
      scope
        .post("/cgi-bin/webhook/send")
        .query({ key: calls.robot.key })
        .times(calls.robot.times)
        .reply(200, (_uri, body) => {
          this.robot.push({ key: calls.robot!.key, ...(body as Omit<RobotMessage, "key">) });
          return { errcode: 0, errmsg: "ok" };
        });
    }
    return scope;
  }

  /**
   * The next expect() takes a gettoken again: for an instance with a cache of its own (the token it
   * would reuse is in the other's), or a clock moved past the token's 7200 s.
   */
  expectNewToken(): void {
    this.tokenFetched = false;
  }

  /** The ResponseCode WeCom puts in the callback when `userId` taps a button on card `taskId` (wecom.md 5.4). */
  issueClickCode(taskId: string, userId: string): string {
    const code = `RC-CLICK-${++this.seq}`;
    this.codes.set(code, { taskId, userId, from: "click", spent: false });
    return code;
  }

  /**
   * The template_card_event for a tap on `button` of a card we sent (wecom.md 2.2), with a fresh ResponseCode.
   * `select`: the option (by its text) chosen in the card's button_selection first, reported in SelectedItems.
   */
  clickXml(from: string, card: TemplateCardJson, buttonText: string, opts: { select?: string } = {}): { xml: string; responseCode: string } {
    const button = buttonOf(card, buttonText);
    // A url button opens a page in the client; WeCom sends no event for it.
    if (button.type === 1 || button.key === undefined) throw new Error(`button "${buttonText}" of card ${card.task_id} opens a page and calls nothing back`);
    if (opts.select !== undefined && !card.button_selection) throw new Error(`card ${card.task_id} has no button_selection`);
    const selected = opts.select === undefined ? "" : selectedItemsXml(card.button_selection!, opts.select);
    const responseCode = this.issueClickCode(card.task_id, from);
    const xml = cardEventXml({ from, key: button.key, taskId: card.task_id, responseCode, createTime: ++this.clickTime, selected });
    return { xml, responseCode };
  }

  /** `option` chosen in a multiple_interaction card's selector and its submit button tapped (wecom.md 2.2, 5.1). */
  submitXml(from: string, card: TemplateCardJson, option: string): { xml: string; responseCode: string } {
    const [question] = card.select_list ?? [];
    if (!question || !card.submit_button) throw new Error(`card ${card.task_id} is not a multiple_interaction card: ${JSON.stringify(card)}`);
    const responseCode = this.issueClickCode(card.task_id, from);
    const selected = selectedItemsXml(question, option);
    const xml = cardEventXml({ from, key: card.submit_button.key, taskId: card.task_id, responseCode, createTime: ++this.clickTime, selected });
    return { xml, responseCode };
  }

  /** The cards sent to `userId`, oldest first. */
  cardsTo(userId: string): TemplateCardJson[] {
    return this.sent.filter((m) => m.touser === userId && m.template_card).map((m) => m.template_card!);
  }

  textsTo(userId: string): string[] {
    return this.sent.filter((m) => m.touser === userId && m.text).map((m) => m.text!.content);
  }

  /** The response_code message/send answered for the card with this task_id. */
  sendCodeOf(taskId: string): string | undefined {
    return this.sent.find((m) => m.template_card?.task_id === taskId)?.answer.response_code;
  }

  updatesOf(taskId: string): CardUpdate[] {
    return this.updates.filter((u) => u.template_card?.task_id === taskId);
  }

  private answerSend(body: Omit<SentMessage, "answer">) {
    const msgid = `MSG-${++this.seq}`;
    const answer: SentMessage["answer"] = { msgid };
    const card = body.template_card;
    if (body.msgtype === "template_card" && card && INTERACTIVE.has(card.card_type)) {
      answer.response_code = `RC-SEND-${this.seq}`;
      this.codes.set(answer.response_code, { taskId: card.task_id, userId: body.touser, from: "send", spent: false });
    }
    this.sent.push({ ...body, answer });
    return { errcode: 0, errmsg: "ok", invaliduser: "", ...answer };
  }

  private answerUpdate(body: Omit<CardUpdate, "answer">, custom?: UpdateAnswer) {
    // Single use (wecom.md 5.4): whatever WeCom then answers, a code that reached it is spent.
    const issued = this.codes.get(body.response_code);
    const taskId = body.template_card?.task_id;
    if (!issued) this.violations.push(`update with a response_code WeCom never issued: ${body.response_code}`);
    else {
      if (issued.spent) this.violations.push(`response_code ${body.response_code} used twice`);
      if (taskId !== undefined && issued.taskId !== taskId) this.violations.push(`response_code ${body.response_code} belongs to task ${issued.taskId}, not ${taskId}`);
      if (body.userids.length !== 1 || body.userids[0].toLowerCase() !== issued.userId.toLowerCase()) {
        this.violations.push(`response_code ${body.response_code} was issued to ${issued.userId}, used for ${body.userids.join("|")}`);
      }
      issued.spent = true;
    }
    const answer = custom ? custom(body) : { errcode: 0 };
    this.updates.push({ ...body, answer: { errcode: answer.errcode } });
    return answer.errcode === 0 ? { errcode: 0, errmsg: "ok", invaliduser: [] } : { errmsg: "error", ...answer };
  }
}

/** The button a person would tap, found by the text they see. */
export function buttonOf(card: TemplateCardJson, text: string): NonNullable<TemplateCardJson["button_list"]>[number] {
  const button = card.button_list?.find((b) => b.text === text);
  if (!button) throw new Error(`card ${card.task_id} has no button "${text}": ${JSON.stringify(card.button_list ?? [])}`);
  return button;
}

/** SelectedItems naming the option shown as `text` (wecom.md 2.2); option ids are what the card was sent with. */
function selectedItemsXml(question: Question, text: string): string {
  const option = question.option_list.find((o) => o.text === text);
  if (!option) throw new Error(`no option "${text}" in ${JSON.stringify(question.option_list)}`);
  return (
    `<SelectedItems><SelectedItem><QuestionKey><![CDATA[${question.question_key}]]></QuestionKey>` +
    `<OptionIds><OptionId><![CDATA[${option.id}]]></OptionId></OptionIds></SelectedItem></SelectedItems>`
  );
}

/**
 * Encrypts, signs and posts one callback the way WeCom does (wecom.md 1.5). `timestamp` (seconds): when
 * WeCom signed it, for an app whose clock is not the machine's.
 */
export function postCallback(t: TestApp, config: WecomConfig, inner: string, opts: { timestamp?: number } = {}) {
  const { query, body } = wecomPost(config, inner, opts);
  return request(t.callback).post("/wecom/callback").query(query).set("Content-Type", "text/xml").send(body);
}

let msgSeq = 0;
/** A text message with a MsgId no other test uses (64-bit, kept as a string: wecom.md 2.1). */
export function textFrom(from: string, content: string): string {
  msgSeq += 1;
  return textXml(from, content, `71${String(process.pid).padStart(7, "0")}${String(msgSeq).padStart(10, "0")}`);
}

/**
 * Runs the background work to the end: the inbound queue, then outbox batches until a batch claims
 * nothing. Rows deferred by a moment (rate-limit tokens, a person's lane) are waited for. `now`: the
 * app's clock, when the test gave it one of its own.
 */
export async function settle(t: TestApp, now: () => Date = () => new Date()): Promise<void> {
  const m = t.app.db.models;
  for (let round = 0; round < 100; round++) {
    await t.app.inbound.drain();
    if ((await t.app.dispatcher.runOnce()).claimed > 0) continue;
    const next = await m.Outbox.findOne({ where: { status: "pending" }, order: [["nextAttemptAt", "ASC"]] });
    if (!next) return;
    const wait = next.nextAttemptAt.getTime() - now().getTime();
    if (wait > 5_000) return; // a real backoff: the test asserts on the row instead
    await new Promise((r) => setTimeout(r, Math.max(wait, 0) + 5));
  }
  throw new Error("background work did not settle in 100 rounds");
}
