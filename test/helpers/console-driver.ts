import request from "supertest";
import type { TestApp } from "./test-app";

export interface Bubble {
  id: number;
  direction: "in" | "out";
  kind: "text" | "card";
  text: string | null;
  html: string | null;
}

export interface Button {
  action: string;
  label: string;
  values: Record<string, string>;
  select?: string;
}

const unescape = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The buttons a person sees on a rendered card, read from its HTML as a browser would. */
export function buttonsOf(html: string | null): Button[] {
  if (!html) return [];
  const out: Button[] = [];
  const re = /<button[^>]*data-action="([^"]+)"([^>]*)>([^<]*)<\/button>/g;
  for (const m of html.matchAll(re)) {
    const values = /data-values='([^']*)'/.exec(m[2]);
    const select = /data-select="([^"]+)"/.exec(m[2]);
    out.push({ action: m[1], label: m[3].trim(), values: values ? JSON.parse(unescape(values[1])) : {}, select: select?.[1] });
  }
  return out;
}

/** Plain text of a rendered card, for asserting what a person reads. */
export function textOf(html: string | null): string {
  return unescape((html ?? "").replace(/<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim();
}

/** Drives the dev console over HTTP the way its page does, and lets the background work run. */
export function consoleDriver(t: TestApp) {
  const http = () => request(t.callback);

  /** Lets the bot handle what arrived and the dispatcher deliver everything due. */
  async function settle() {
    for (let i = 0; i < 50; i++) {
      await t.app.inbound.drain();
      const r = await t.app.dispatcher.runOnce();
      if (r.claimed === 0) {
        await t.app.inbound.drain();
        if ((await t.app.dispatcher.runOnce()).claimed === 0) return;
      }
    }
    throw new Error("the outbox did not settle");
  }

  return {
    settle,
    async say(user: string, text: string) {
      const res = await http().post("/dev/chat/send").send({ user, text });
      if (res.status !== 202) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
      await settle();
    },
    async tap(user: string, button: Button, chosen?: string) {
      const values = { ...button.values, ...(button.select && chosen !== undefined ? { [button.select]: chosen } : {}) };
      const res = await http().post("/dev/chat/action").send({ user, action: button.action, values });
      if (res.status !== 202) throw new Error(`tap failed: ${res.status} ${JSON.stringify(res.body)}`);
      await settle();
    },
    async messages(conversation: string): Promise<Bubble[]> {
      const res = await http().get("/dev/chat/messages").query({ conversation, limit: 200 });
      return res.body.items as Bubble[];
    },
    async lastCard(conversation: string): Promise<Bubble> {
      const cards = (await this.messages(conversation)).filter((m) => m.kind === "card" && m.direction === "out");
      if (cards.length === 0) throw new Error(`no card in ${conversation}`);
      return cards[cards.length - 1];
    },
    async texts(conversation: string): Promise<string[]> {
      return (await this.messages(conversation)).filter((m) => m.kind === "text" && m.direction === "out").map((m) => m.text ?? "");
    },
  };
}
