import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { createTestApp, type TestApp } from "./test-app";

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it. Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(__dirname, "../e2e/__screenshots__");

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

/** The test app on a real port, for the browser. */
export async function listen(t: TestApp): Promise<{ base: string; close(): Promise<void> }> {
  const server = http.createServer(t.callback);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface PhonePage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far: a test fails on any. */
  errors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A 360×640 touch phone in Chinese, recording every console error. */
export async function phonePage(browser: Browser): Promise<PhonePage> {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "zh-CN" });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return {
    page,
    errors,
    async screenshot(name) {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}

export interface PhoneBrowser {
  readonly t: TestApp;
  /** The page of the running test (a fresh one per test). */
  readonly phone: PhonePage;
  /** Where the app listens, e.g. `${base}/m`. */
  readonly base: string;
  /** Signs in as a simulator user through /dev/login and lands on `next`. */
  signIn(uid: string, next: string): Promise<unknown>;
}

/**
 * The hooks every browser test file needs: the seeded app on a real port (after `prepare` added what the
 * file needs), one Chromium for the file, and a fresh phone page for each test.
 */
export function usePhoneBrowser(prepare?: (t: TestApp) => Promise<void>): PhoneBrowser {
  let t: TestApp | undefined;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  let browser: Browser | undefined;
  let phone: PhonePage | undefined;
  beforeAll(async () => {
    t = await createTestApp({ seed: true });
    await prepare?.(t);
    server = await listen(t);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.close();
  });
  beforeEach(async () => {
    phone = await phonePage(browser!);
  });
  afterEach(async () => {
    await phone?.close();
  });
  return {
    get t() {
      return t!;
    },
    get phone() {
      return phone!;
    },
    get base() {
      return server!.base;
    },
    signIn: (uid, next) => phone!.page.goto(`${server!.base}/dev/login?u=${uid}&next=${encodeURIComponent(next)}`),
  };
}
