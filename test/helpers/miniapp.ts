import request from "supertest";
import type { TestApp } from "./test-app";

export interface MiniAppSession {
  agent: ReturnType<typeof request.agent>;
  /** The CSRF token of this session, read from a page like a browser would. */
  csrf: string;
}

/** Signs `user` in through the simulator's /dev/login, as the dev console's picker does. */
export async function signInAs(t: TestApp, user: { platformUserId: string }): Promise<MiniAppSession> {
  const agent = request.agent(t.callback);
  const login = await agent.get("/dev/login").query({ u: user.platformUserId, next: "/m" });
  if (login.status !== 302) throw new Error(`sign-in failed: ${login.status}`);
  const home = await agent.get("/m");
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(home.text)?.[1];
  if (!csrf) throw new Error(`no csrf token on /m (status ${home.status})`);
  return { agent, csrf };
}

/** The refusal page's code (data-code), to assert which refusal a page showed. */
export function refusalCode(html: string): string | null {
  return /data-code="([a-z_]+)"/.exec(html)?.[1] ?? null;
}
